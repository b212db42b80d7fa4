// cgroup v1: one hierarchy per controller (or per group of co-mounted controllers), the
// container's cgroup is the same relative path in each of them.
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CgroupError, CgroupLimitError } from "./errors.js";
import { BaseCgroupManager } from "./base.js";
import {
  exists,
  mkdirOne,
  pidsRecursive,
  readText,
  removeTree,
  waitUntil,
  writeValue,
} from "./files.js";
import { NANOS_PER_TICK, hostOnlineCpus, hostTotalMemory, isUnlimitedV1 } from "./host.js";
import { controllersFor, validateLimits } from "./limits.js";
import { DEFAULT_DEVICE_RULES } from "./device-filter.js";
import { parseBlkioServiceBytes, parseFlatKeyed, parseSingleValue } from "./parse.js";
import type { CgroupApplyReport, CgroupLimits, CgroupStats } from "./types.js";

const FREEZE_TIMEOUT_MS = 5000;

export class V1CgroupManager extends BaseCgroupManager<keyof V1StatFiles> {
  readonly version = 1 as const;

  /** `mounts`: controller -> mountpoint of its hierarchy, as `detectCgroups()` returns. */
  constructor(
    relPath: string,
    readonly mounts: ReadonlyMap<string, string>,
  ) {
    super(relPath);
  }

  /** The container's directory in `controller`'s hierarchy, if that controller is mounted. */
  dir(controller: string): string | undefined {
    const mount = this.mounts.get(controller);
    return mount === undefined ? undefined : join(mount, this.relPath);
  }

  /** The container's directory in every hierarchy (co-mounted controllers counted once). */
  dirs(): string[] {
    return [...new Set(this.mounts.values())].map((mount) => join(mount, this.relPath));
  }

  private file(controller: string, name: string): string {
    const dir = this.dir(controller);
    if (dir === undefined) {
      throw new CgroupError(`the cgroup v1 ${controller} controller is not mounted`);
    }
    return join(dir, name);
  }

  async create(
    limits: CgroupLimits = {},
    extraDeviceRules: readonly string[] = [],
  ): Promise<CgroupApplyReport> {
    validateLimits(limits);
    this.requireControllers(limits);
    const created: string[] = [];
    const cpusetMount = this.mounts.get("cpuset");
    try {
      for (const mount of new Set(this.mounts.values())) {
        let dir = mount;
        for (const part of this.relPath.split("/")) {
          dir = join(dir, part);
          const isNew = await mkdirOne(dir);
          if (isNew && dir === join(mount, this.relPath)) created.push(dir);
          if (mount === cpusetMount) await inheritCpuset(dir);
        }
      }
      const devices = this.dir("devices");
      if (devices !== undefined && created.includes(devices)) {
        await writeValue(join(devices, "devices.deny"), "a");
        for (const rule of [...DEFAULT_DEVICE_RULES, ...extraDeviceRules]) {
          await writeValue(join(devices, "devices.allow"), rule);
        }
      }
      const report = await this.apply(limits);
      if (devices === undefined) {
        report.warnings.push(
          "the devices controller is not mounted: device access is not restricted",
        );
      }
      return report;
    } catch (err) {
      for (const dir of created) await removeTree(dir);
      throw err;
    }
  }

  async update(limits: CgroupLimits): Promise<CgroupApplyReport> {
    await this.mustExist("update limits of", this.relPath);
    let currentMemory: number | undefined;
    const memoryDir = this.dir("memory");
    if (memoryDir !== undefined) {
      const value = parseSingleValue(
        (await readText(join(memoryDir, "memory.limit_in_bytes"))) ?? "",
      );
      currentMemory = value === undefined || isUnlimitedV1(value) ? -1 : value;
    }
    validateLimits(limits, currentMemory);
    this.requireControllers(limits);
    return this.apply(limits);
  }

  private requireControllers(limits: CgroupLimits): void {
    for (const [limit, controller] of controllersFor(limits)) {
      if (!this.mounts.has(controller)) {
        throw new CgroupLimitError(
          `cannot apply ${limit}: the cgroup v1 ${controller} controller is not mounted ` +
            `(mount it under /sys/fs/cgroup/${controller} or run without that limit)`,
        );
      }
    }
  }

  private async apply(limits: CgroupLimits): Promise<CgroupApplyReport> {
    const warnings: string[] = [];
    const { memoryBytes, memorySwapBytes, cpuQuotaMicros, cpuPeriodMicros, cpuShares } = limits;
    if (memoryBytes !== undefined || memorySwapBytes !== undefined) {
      const memsw = this.file("memory", "memory.memsw.limit_in_bytes");
      const currentSwap = (await readText(memsw)) ?? "";
      const swapAccounting = currentSwap !== "";
      if (memorySwapBytes !== undefined && !swapAccounting) {
        // What Docker does too: warn, limit memory only.
        warnings.push(
          "memory.memsw.limit_in_bytes is missing (boot with swapaccount=1): memory limited " +
            "without swap",
        );
      }
      const writeMemory = async (): Promise<void> => {
        if (memoryBytes === undefined) return;
        await writeValue(
          this.file("memory", "memory.limit_in_bytes"),
          memoryBytes,
          "the memory limit must be at most the memory+swap limit (set memorySwapBytes too) " +
            "and above what the container already uses",
        );
      };
      const writeSwap = async (): Promise<void> => {
        if (memorySwapBytes === undefined || !swapAccounting) return;
        await writeValue(memsw, memorySwapBytes);
      };
      // The kernel keeps memory <= memory+swap after every write: when the new memory limit
      // exceeds the current memory+swap limit, raise that first.
      const newMemory = memoryBytes === -1 ? Infinity : (memoryBytes ?? 0);
      const swapNow = parseSingleValue(currentSwap) ?? Infinity;
      if (memoryBytes === undefined || newMemory > swapNow) {
        await writeSwap();
        await writeMemory();
      } else {
        await writeMemory();
        await writeSwap();
      }
    }
    if (cpuPeriodMicros !== undefined) {
      await writeValue(this.file("cpu", "cpu.cfs_period_us"), cpuPeriodMicros);
    }
    if (cpuQuotaMicros !== undefined) {
      await writeValue(this.file("cpu", "cpu.cfs_quota_us"), cpuQuotaMicros);
    }
    if (cpuShares !== undefined) await writeValue(this.file("cpu", "cpu.shares"), cpuShares);
    if (limits.pidsLimit !== undefined) {
      await writeValue(
        this.file("pids", "pids.max"),
        limits.pidsLimit === -1 ? "max" : limits.pidsLimit,
      );
    }
    for (const controller of ["cpu", "cpuacct", "memory", "pids", "freezer", "blkio"]) {
      if (!this.mounts.has(controller)) {
        warnings.push(`the cgroup v1 ${controller} controller is not mounted: its stats read as 0`);
      }
    }
    const controllers = [...this.mounts.keys()].filter((c) => !c.startsWith("name="));
    return { controllers, warnings };
  }

  async addProcess(pid: number): Promise<void> {
    await this.mustExist(`add process ${pid} to`, this.relPath);
    for (const dir of this.dirs()) {
      await writeValue(
        join(dir, "cgroup.procs"),
        pid,
        "is the process still running? (ENOSPC: cpuset.cpus/cpuset.mems are empty)",
      );
    }
  }

  async freeze(): Promise<void> {
    const state = this.file("freezer", "freezer.state");
    await this.mustExist("freeze", this.relPath);
    const deadline = Date.now() + FREEZE_TIMEOUT_MS;
    // FREEZING can stall on a task that was busy when asked; asking again retries it (runc).
    for (;;) {
      await writeValue(state, "FROZEN");
      for (let i = 0; i < 10; i++) {
        if ((await readText(state))?.trim() === "FROZEN") return;
        await sleep(i < 5 ? 1 : 10);
      }
      if (Date.now() > deadline) {
        await writeValue(state, "THAWED");
        throw new CgroupError(
          `freeze cgroup ${this.relPath}: still FREEZING after ${FREEZE_TIMEOUT_MS / 1000}s ` +
            `(a task in uninterruptible sleep?); thawed it again`,
          state,
        );
      }
    }
  }

  async thaw(): Promise<void> {
    const state = this.file("freezer", "freezer.state");
    await this.mustExist("thaw", this.relPath);
    await writeValue(state, "THAWED");
    await waitUntil(
      async () => (await readText(state))?.trim() === "THAWED",
      FREEZE_TIMEOUT_MS,
      () => `thaw cgroup ${this.relPath}: freezer.state is not THAWED after 5s`,
    );
  }

  async isFrozen(): Promise<boolean> {
    const dir = this.dir("freezer");
    if (dir === undefined) return false;
    return (await readText(join(dir, "freezer.state")))?.trim() === "FROZEN";
  }

  protected async canFreeze(): Promise<boolean> {
    const dir = this.dir("freezer");
    return dir !== undefined && (await exists(dir));
  }

  protected async killAtomically(): Promise<boolean> {
    return false;
  }

  async pids(): Promise<number[]> {
    // Every hierarchy, not one: after a failed addProcess a task may sit in some of them only.
    const all = await Promise.all(this.dirs().map((dir) => pidsRecursive(dir)));
    return [...new Set(all.flat())];
  }

  async oomKilled(): Promise<number> {
    const dir = this.dir("memory");
    if (dir === undefined) return 0;
    return (
      parseFlatKeyed((await readText(join(dir, "memory.oom_control"))) ?? "").get("oom_kill") ?? 0
    );
  }

  protected statPaths(): Record<keyof V1StatFiles, string | undefined> {
    const path = (controller: string, name: string): string | undefined => {
      const dir = this.dir(controller);
      return dir === undefined ? undefined : join(dir, name);
    };
    return {
      cpuacctUsage: path("cpuacct", "cpuacct.usage"),
      cpuacctStat: path("cpuacct", "cpuacct.stat"),
      cpuStat: path("cpu", "cpu.stat"),
      memoryUsage: path("memory", "memory.usage_in_bytes"),
      memoryStat: path("memory", "memory.stat"),
      memoryMaxUsage: path("memory", "memory.max_usage_in_bytes"),
      memoryLimit: path("memory", "memory.limit_in_bytes"),
      memoryOomControl: path("memory", "memory.oom_control"),
      pidsCurrent: path("pids", "pids.current"),
      pidsMax: path("pids", "pids.max"),
      blkioServiceBytes: path("blkio", "blkio.throttle.io_service_bytes_recursive"),
    };
  }

  protected async statsFromTexts(files: V1StatFiles): Promise<CgroupStats> {
    if (Object.values(files).every((text) => text === undefined)) {
      throw new CgroupError(`read stats of cgroup ${this.relPath}: it does not exist`);
    }
    return statsFromV1Files(files);
  }

  async exists(): Promise<boolean> {
    for (const dir of this.dirs()) if (await exists(dir)) return true;
    return false;
  }

  protected async removeDirs(): Promise<void> {
    for (const dir of this.dirs()) await removeTree(dir);
  }
}

/**
 * A new cpuset cgroup starts with empty cpuset.cpus/mems (unless clone_children is set) and
 * refuses tasks until they are filled: copy them from the parent.
 */
async function inheritCpuset(dir: string): Promise<void> {
  for (const name of ["cpuset.cpus", "cpuset.mems"]) {
    if (((await readText(join(dir, name))) ?? "").trim() !== "") continue;
    const parent = ((await readText(join(dirname(dir), name))) ?? "").trim();
    await writeValue(join(dir, name), parent);
  }
}

/** The text of each v1 file (undefined when its controller is not mounted). */
export interface V1StatFiles {
  cpuacctUsage?: string | undefined;
  cpuacctStat?: string | undefined;
  cpuStat?: string | undefined;
  memoryUsage?: string | undefined;
  memoryStat?: string | undefined;
  memoryMaxUsage?: string | undefined;
  memoryLimit?: string | undefined;
  memoryOomControl?: string | undefined;
  pidsCurrent?: string | undefined;
  pidsMax?: string | undefined;
  blkioServiceBytes?: string | undefined;
}

export function statsFromV1Files(f: V1StatFiles, readAt = new Date()): CgroupStats {
  const ticks = parseFlatKeyed(f.cpuacctStat ?? "");
  const cpu = parseFlatKeyed(f.cpuStat ?? "");
  const mem = parseFlatKeyed(f.memoryStat ?? "");
  const usageBytes = parseSingleValue(f.memoryUsage ?? "") ?? 0;
  const limit = parseSingleValue(f.memoryLimit ?? "");
  const maxUsage = f.memoryMaxUsage === undefined ? undefined : parseSingleValue(f.memoryMaxUsage);
  const pidsLimit = f.pidsMax === undefined ? undefined : parseSingleValue(f.pidsMax);
  return {
    cpu: {
      usageNanos: parseSingleValue(f.cpuacctUsage ?? "") ?? 0,
      userNanos: (ticks.get("user") ?? 0) * NANOS_PER_TICK,
      systemNanos: (ticks.get("system") ?? 0) * NANOS_PER_TICK,
      throttledPeriods: cpu.get("nr_throttled") ?? 0,
      throttledNanos: cpu.get("throttled_time") ?? 0,
      onlineCpus: hostOnlineCpus(),
    },
    memory: {
      usageBytes,
      limitBytes: limit === undefined || isUnlimitedV1(limit) ? hostTotalMemory() : limit,
      cacheBytes: mem.get("total_cache") ?? mem.get("cache") ?? 0,
      workingSetBytes: Math.max(0, usageBytes - (mem.get("total_inactive_file") ?? 0)),
      ...(maxUsage === undefined ? {} : { maxUsageBytes: maxUsage }),
      oomKills: parseFlatKeyed(f.memoryOomControl ?? "").get("oom_kill") ?? 0,
    },
    pids: {
      current: parseSingleValue(f.pidsCurrent ?? "") ?? 0,
      ...(pidsLimit === undefined ? {} : { limit: pidsLimit }),
    },
    ...(f.blkioServiceBytes === undefined
      ? {}
      : { io: parseBlkioServiceBytes(f.blkioServiceBytes) }),
    readAt: readAt.toISOString(),
  };
}
