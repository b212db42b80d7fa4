// Host facts that stats need, read once: they do not change while the daemon runs.
import { readFileSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import { countCpuList } from "./parse.js";

let onlineCpus: number | undefined;

/** Online CPUs of the host (what `docker stats` divides by), like sysconf(_SC_NPROCESSORS_ONLN). */
export function hostOnlineCpus(): number {
  if (onlineCpus === undefined) {
    try {
      onlineCpus = countCpuList(readFileSync("/sys/devices/system/cpu/online", "utf8"));
    } catch {
      onlineCpus = 0;
    }
    if (onlineCpus <= 0) onlineCpus = availableParallelism();
  }
  return onlineCpus;
}

let totalMemory: number | undefined;

/** The host's memory, the limit of an unlimited container (os.totalmem() is a syscall each time). */
export function hostTotalMemory(): number {
  totalMemory ??= totalmem();
  return totalMemory;
}

/**
 * cgroup v1 reports "no limit" as PAGE_COUNTER_MAX pages (9223372036854771712 on 4 KiB pages);
 * anything this large is unlimited.
 */
export function isUnlimitedV1(bytes: number): boolean {
  return bytes >= 2 ** 62;
}

/** Linux exports cpuacct.stat in USER_HZ ticks, 100 per second on x86 and arm (the only ones Corral runs on). */
export const USER_HZ = 100;
export const NANOS_PER_TICK = 1e9 / USER_HZ;
