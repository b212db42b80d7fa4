// Validation of Docker-style limits and the conversions between Docker's and the kernel's units.
// Messages follow Docker's where it has one, plus what to do about it.
import { availableParallelism } from "node:os";
import { CgroupLimitError } from "./errors.js";
import type { CgroupLimits } from "./types.js";

/** Docker refuses memory limits below 6 MiB (linuxMinMemory): a container cannot even start. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
export const DEFAULT_CPU_PERIOD_MICROS = 100_000;
const MIN_CPU_SHARES = 2;
const MAX_CPU_SHARES = 262_144;

function integer(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) {
    throw new CgroupLimitError(`${name} must be an integer, got ${value}`);
  }
}

/**
 * Throws a one-line CgroupLimitError for the first invalid limit. `currentMemoryBytes` is the
 * memory limit already in force (update without `memoryBytes`), -1/undefined for none.
 */
export function validateLimits(limits: CgroupLimits, currentMemoryBytes?: number): void {
  const { memoryBytes, memorySwapBytes, cpuQuotaMicros, cpuPeriodMicros, cpuShares, pidsLimit } =
    limits;
  if (memoryBytes !== undefined) {
    integer("memoryBytes", memoryBytes);
    if (memoryBytes !== -1 && memoryBytes < MIN_MEMORY_BYTES) {
      throw new CgroupLimitError(
        `Minimum memory limit allowed is 6MB: memoryBytes=${memoryBytes}; ` +
          `give at least ${MIN_MEMORY_BYTES} bytes, or -1 for no limit`,
      );
    }
  }
  if (memorySwapBytes !== undefined) {
    integer("memorySwapBytes", memorySwapBytes);
    if (memorySwapBytes !== -1) {
      const memory = memoryBytes ?? currentMemoryBytes;
      if (memory === undefined || memory === -1) {
        throw new CgroupLimitError(
          "memorySwapBytes (memory+swap) needs a memory limit: set memoryBytes too, " +
            "or use -1 for unlimited swap",
        );
      }
      if (memorySwapBytes < memory) {
        throw new CgroupLimitError(
          `Minimum memoryswap limit should be larger than memory limit: memorySwapBytes=` +
            `${memorySwapBytes} < memoryBytes=${memory}; it counts memory plus swap, so give ` +
            `at least the memory limit (equal = no swap), or -1 for unlimited swap`,
        );
      }
    }
  }
  if (cpuPeriodMicros !== undefined) {
    integer("cpuPeriodMicros", cpuPeriodMicros);
    if (cpuPeriodMicros < 1000 || cpuPeriodMicros > 1_000_000) {
      throw new CgroupLimitError(
        `CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000): ` +
          `cpuPeriodMicros=${cpuPeriodMicros}`,
      );
    }
  }
  if (cpuQuotaMicros !== undefined) {
    integer("cpuQuotaMicros", cpuQuotaMicros);
    if (cpuQuotaMicros !== -1 && cpuQuotaMicros < 1000) {
      throw new CgroupLimitError(
        `CPU cfs quota can not be less than 1ms (i.e. 1000): cpuQuotaMicros=${cpuQuotaMicros}; ` +
          `use -1 for no quota`,
      );
    }
  }
  if (cpuShares !== undefined) {
    integer("cpuShares", cpuShares);
    if (cpuShares < MIN_CPU_SHARES || cpuShares > MAX_CPU_SHARES) {
      throw new CgroupLimitError(
        `cpuShares must be between ${MIN_CPU_SHARES} and ${MAX_CPU_SHARES} (default 1024), ` +
          `got ${cpuShares}`,
      );
    }
  }
  if (pidsLimit !== undefined) {
    integer("pidsLimit", pidsLimit);
    if (pidsLimit !== -1 && pidsLimit < 1) {
      throw new CgroupLimitError(
        `pidsLimit must be a positive number of processes, or -1 for unlimited; got ${pidsLimit}`,
      );
    }
  }
}

/** `--cpus 1.5` -> quota 150000 µs per 100000 µs period (what Docker's NanoCPUs become). */
export function cpusToLimits(
  cpus: number,
  hostCpus: number = availableParallelism(),
): Required<Pick<CgroupLimits, "cpuQuotaMicros" | "cpuPeriodMicros">> {
  if (!Number.isFinite(cpus) || cpus < 0.01 || cpus > hostCpus) {
    throw new CgroupLimitError(
      `Range of CPUs is from 0.01 to ${hostCpus.toFixed(2)}, as there are only ${hostCpus} CPUs ` +
        `available: got --cpus ${cpus}`,
    );
  }
  return {
    cpuQuotaMicros: Math.round(cpus * DEFAULT_CPU_PERIOD_MICROS),
    cpuPeriodMicros: DEFAULT_CPU_PERIOD_MICROS,
  };
}

/** cgroup v1 cpu.shares (2..262144) -> v2 cpu.weight (1..10000), runc's linear mapping. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262_142);
}

/** Docker's memory+swap total -> v2 memory.swap.max (swap alone). */
export function swapMaxV2(memoryBytes: number, memorySwapBytes: number): string {
  if (memorySwapBytes === -1) return "max";
  return String(memorySwapBytes - memoryBytes);
}

/** Which controller each limit needs (same names in v1 and v2). */
export function controllersFor(limits: CgroupLimits): Map<keyof CgroupLimits, string> {
  const needs = new Map<keyof CgroupLimits, string>();
  if (limits.memoryBytes !== undefined) needs.set("memoryBytes", "memory");
  if (limits.memorySwapBytes !== undefined) needs.set("memorySwapBytes", "memory");
  if (limits.cpuQuotaMicros !== undefined) needs.set("cpuQuotaMicros", "cpu");
  if (limits.cpuPeriodMicros !== undefined) needs.set("cpuPeriodMicros", "cpu");
  if (limits.cpuShares !== undefined) needs.set("cpuShares", "cpu");
  if (limits.pidsLimit !== undefined) needs.set("pidsLimit", "pids");
  return needs;
}

const MiB = 1024 * 1024;
export function formatBytes(n: number): string {
  return n % MiB === 0 ? `${n / MiB}MiB` : `${n} bytes`;
}
