// cgroup v2 (unified hierarchy): one directory per container under the cgroup2 root.
import { closeSync, constants, openSync } from "node:fs";
import { join } from "node:path";
import {
  BPF_CGROUP_DEVICE,
  BPF_F_ALLOW_MULTI,
  BPF_PROG_TYPE_CGROUP_DEVICE,
  bpfProgAttach,
  bpfProgLoad,
} from "../syscall/index.js";
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
import { DEFAULT_DEVICE_RULES, deviceFilterProgram, parseDeviceRule } from "./device-filter.js";
import type { DeviceRule } from "./device-filter.js";
import { hostOnlineCpus, hostTotalMemory } from "./host.js";
import { controllersFor, sharesToWeight, swapMaxV2, validateLimits } from "./limits.js";
import { parseControllerList, parseFlatKeyed, parseIoStat, parseSingleValue } from "./parse.js";
import type { CgroupApplyReport, CgroupLimits, CgroupStats } from "./types.js";

/** Controllers a container's cgroup gets when the parent has them (limits and stats). */
export const V2_CONTROLLERS = ["cpu", "memory", "pids", "io"] as const;
const FREEZE_TIMEOUT_MS = 5000;

export class V2CgroupManager extends BaseCgroupManager<keyof V2StatFiles> {
  readonly version = 2 as const;
  /** Absolute path of the container's cgroup. */
  readonly path: string;

  /**
   * `root` is the cgroup2 mountpoint (or a delegated subtree of it). `attachDeviceFilter` is
   * the step that enforces device rules (unit tests on plain directories record it instead).
   */
  constructor(
    relPath: string,
    readonly root: string,
    private readonly attachDeviceFilter: typeof restrictDevices = restrictDevices,
  ) {
    super(relPath);
    this.path = join(root, relPath);
  }

  async create(
    limits: CgroupLimits = {},
    extraDeviceRules: readonly string[] = [],
  ): Promise<CgroupApplyReport> {
    validateLimits(limits);
    const warnings: string[] = [];
    // Each level may only pass down controllers enabled in its own subtree_control, so enable
    // them from the root to the container's parent (none of those holds processes).
    let dir = this.root;
    let createdLeaf = false;
    for (const part of this.relPath.split("/")) {
      await this.enableControllers(dir, warnings);
      dir = join(dir, part);
      createdLeaf = await mkdirOne(dir);
    }
    try {
      // Before any process can join: the init's first instruction already runs under it.
      const rules = [...DEFAULT_DEVICE_RULES, ...extraDeviceRules].map(parseDeviceRule);
      this.attachDeviceFilter(this.path, rules);
      return await this.apply(limits, warnings);
    } catch (err) {
      if (createdLeaf) await removeTree(this.path);
      throw err;
    }
  }

  async update(limits: CgroupLimits): Promise<CgroupApplyReport> {
    await this.mustExist("update limits of", this.path);
    const current = parseSingleValue((await readText(join(this.path, "memory.max"))) ?? "max");
    validateLimits(limits, current ?? -1);
    return this.apply(limits, []);
  }

  private async enableControllers(dir: string, warnings: string[]): Promise<void> {
    const available = parseControllerList((await readText(join(dir, "cgroup.controllers"))) ?? "");
    const enabled = parseControllerList(
      (await readText(join(dir, "cgroup.subtree_control"))) ?? "",
    );
    for (const controller of V2_CONTROLLERS) {
      if (!available.has(controller) || enabled.has(controller)) continue;
      // One write per controller: one that cannot be enabled (e.g. cpu while a realtime task
      // runs in the subtree) must not keep the others off.
      try {
        await writeValue(join(dir, "cgroup.subtree_control"), `+${controller}`);
      } catch (err) {
        warnings.push(`cannot enable the ${controller} controller in ${dir}: ${String(err)}`);
      }
    }
  }

  private async controllers(): Promise<Set<string>> {
    return parseControllerList((await readText(join(this.path, "cgroup.controllers"))) ?? "");
  }

  private async apply(limits: CgroupLimits, warnings: string[]): Promise<CgroupApplyReport> {
    const have = await this.controllers();
    const missing = [...controllersFor(limits)].filter(([, controller]) => !have.has(controller));
    if (missing.length > 0) {
      const [, controller] = missing[0] ?? [];
      throw new CgroupLimitError(
        `cannot apply ${missing.map(([limit]) => limit).join(", ")}: the cgroup v2 ` +
          `${controller} controller is not available at ${this.root} (cgroup.controllers: ` +
          `${[...have].join(" ") || "none"}); enable it for this hierarchy or run without that limit`,
      );
    }
    for (const controller of V2_CONTROLLERS) {
      if (!have.has(controller)) {
        warnings.push(
          `the ${controller} controller is not available at ${this.root}: its stats read as 0`,
        );
      }
    }
    const file = (name: string): string => join(this.path, name);
    const { memoryBytes, memorySwapBytes, cpuQuotaMicros, cpuPeriodMicros, cpuShares } = limits;

    if (memoryBytes !== undefined) {
      await writeValue(file("memory.max"), memoryBytes === -1 ? "max" : memoryBytes);
    }
    if (memorySwapBytes !== undefined) {
      if ((await readText(file("memory.swap.max"))) === undefined) {
        warnings.push(
          "memory.swap.max is missing (kernel without swap accounting): memory limited without swap",
        );
      } else {
        const memory =
          memoryBytes ?? parseSingleValue((await readText(file("memory.max"))) ?? "") ?? -1;
        await writeValue(file("memory.swap.max"), swapMaxV2(memory, memorySwapBytes));
      }
    }
    if (cpuQuotaMicros !== undefined || cpuPeriodMicros !== undefined) {
      // cpu.max holds "$MAX $PERIOD"; keep whichever half was not given.
      const [curQuota = "max", curPeriod = "100000"] = ((await readText(file("cpu.max"))) ?? "")
        .trim()
        .split(/\s+/);
      const quota =
        cpuQuotaMicros === undefined ? curQuota : cpuQuotaMicros === -1 ? "max" : cpuQuotaMicros;
      await writeValue(file("cpu.max"), `${quota} ${cpuPeriodMicros ?? curPeriod}`);
    }
    if (cpuShares !== undefined) await writeValue(file("cpu.weight"), sharesToWeight(cpuShares));
    if (limits.pidsLimit !== undefined) {
      await writeValue(file("pids.max"), limits.pidsLimit === -1 ? "max" : limits.pidsLimit);
    }
    return { controllers: [...have], warnings };
  }

  async addProcess(pid: number): Promise<void> {
    await this.mustExist(`add process ${pid} to`, this.path);
    await writeValue(join(this.path, "cgroup.procs"), pid, "is the process still running?");
  }

  async freeze(): Promise<void> {
    await this.setFrozen(true);
  }

  async thaw(): Promise<void> {
    await this.setFrozen(false);
  }

  private async setFrozen(frozen: boolean): Promise<void> {
    await this.mustExist(frozen ? "freeze" : "thaw", this.path);
    await writeValue(
      join(this.path, "cgroup.freeze"),
      frozen ? 1 : 0,
      "cgroup.freeze needs Linux 5.2 or newer",
    );
    await waitUntil(
      async () => (await this.isFrozen()) === frozen,
      FREEZE_TIMEOUT_MS,
      () =>
        `${frozen ? "freeze" : "thaw"} cgroup ${this.path}: cgroup.events did not report ` +
        `frozen ${frozen ? 1 : 0} within ${FREEZE_TIMEOUT_MS / 1000}s`,
    );
  }

  async isFrozen(): Promise<boolean> {
    const events = parseFlatKeyed((await readText(join(this.path, "cgroup.events"))) ?? "");
    return events.get("frozen") === 1;
  }

  protected async canFreeze(): Promise<boolean> {
    return (await readText(join(this.path, "cgroup.freeze"))) !== undefined;
  }

  protected async killAtomically(): Promise<boolean> {
    // cgroup.kill (Linux 5.14+) is write-only: test for it by writing.
    try {
      await writeValue(join(this.path, "cgroup.kill"), 1);
      return true;
    } catch (err) {
      if (err instanceof CgroupError && err.code === "ENOENT") return false;
      throw err;
    }
  }

  async pids(): Promise<number[]> {
    return pidsRecursive(this.path);
  }

  async oomKilled(): Promise<number> {
    const events = parseFlatKeyed((await readText(join(this.path, "memory.events"))) ?? "");
    return events.get("oom_kill") ?? 0;
  }

  protected statPaths(): Record<keyof V2StatFiles, string> {
    const path = (name: string): string => join(this.path, name);
    return {
      cpuStat: path("cpu.stat"),
      memoryCurrent: path("memory.current"),
      memoryStat: path("memory.stat"),
      memoryMax: path("memory.max"),
      memoryPeak: path("memory.peak"),
      memoryEvents: path("memory.events"),
      pidsCurrent: path("pids.current"),
      pidsMax: path("pids.max"),
      ioStat: path("io.stat"),
    };
  }

  protected async statsFromTexts(
    files: Record<keyof V2StatFiles, string | undefined>,
  ): Promise<CgroupStats> {
    const { cpuStat, pidsCurrent } = files;
    if (cpuStat === undefined) {
      throw new CgroupError(`read stats of cgroup ${this.path}: it does not exist`, this.path);
    }
    return statsFromV2Files({
      ...files,
      cpuStat,
      pidsCurrent: pidsCurrent ?? String((await this.pids()).length),
    });
  }

  async exists(): Promise<boolean> {
    return exists(this.path);
  }

  protected async removeDirs(): Promise<void> {
    await removeTree(this.path);
  }
}

/**
 * Attaches a device program allowing only `rules` to the cgroup at `dir` (cgroup v2 has no
 * devices.allow: a BPF_PROG_TYPE_CGROUP_DEVICE program is the only device control). Throws if
 * it cannot: a container must never run without device control. The cgroup keeps the program
 * alive once attached, so both fds are closed here.
 */
export function restrictDevices(dir: string, rules: readonly DeviceRule[]): void {
  let progFd: number | undefined;
  let dirFd: number | undefined;
  try {
    progFd = bpfProgLoad(BPF_PROG_TYPE_CGROUP_DEVICE, deviceFilterProgram(rules), "Apache-2.0");
    dirFd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    bpfProgAttach(progFd, dirFd, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI);
  } catch (err) {
    throw new CgroupError(
      `cannot restrict device access of cgroup ${dir} (a BPF device program is required on ` +
        `cgroup v2): ${(err as Error).message}`,
      dir,
    );
  } finally {
    if (progFd !== undefined) closeSync(progFd);
    if (dirFd !== undefined) closeSync(dirFd);
  }
}

/** The text of each v2 interface file (undefined when the controller is missing). */
export interface V2StatFiles {
  cpuStat: string;
  memoryCurrent?: string | undefined;
  memoryStat?: string | undefined;
  memoryMax?: string | undefined;
  memoryPeak?: string | undefined;
  memoryEvents?: string | undefined;
  pidsCurrent?: string | undefined;
  pidsMax?: string | undefined;
  ioStat?: string | undefined;
}

export function statsFromV2Files(f: V2StatFiles, readAt = new Date()): CgroupStats {
  const cpu = parseFlatKeyed(f.cpuStat);
  const mem = parseFlatKeyed(f.memoryStat ?? "");
  const usageBytes = parseSingleValue(f.memoryCurrent ?? "") ?? 0;
  const inactiveFile = mem.get("inactive_file") ?? 0;
  const peak = f.memoryPeak === undefined ? undefined : parseSingleValue(f.memoryPeak);
  const pidsLimit = f.pidsMax === undefined ? undefined : parseSingleValue(f.pidsMax);
  return {
    cpu: {
      usageNanos: (cpu.get("usage_usec") ?? 0) * 1000,
      userNanos: (cpu.get("user_usec") ?? 0) * 1000,
      systemNanos: (cpu.get("system_usec") ?? 0) * 1000,
      throttledPeriods: cpu.get("nr_throttled") ?? 0,
      throttledNanos: (cpu.get("throttled_usec") ?? 0) * 1000,
      onlineCpus: hostOnlineCpus(),
    },
    memory: {
      usageBytes,
      limitBytes: parseSingleValue(f.memoryMax ?? "") ?? hostTotalMemory(),
      cacheBytes: mem.get("file") ?? 0,
      workingSetBytes: Math.max(0, usageBytes - inactiveFile),
      ...(peak === undefined ? {} : { maxUsageBytes: peak }),
      oomKills: parseFlatKeyed(f.memoryEvents ?? "").get("oom_kill") ?? 0,
    },
    pids: {
      current: parseSingleValue(f.pidsCurrent ?? "") ?? 0,
      ...(pidsLimit === undefined ? {} : { limit: pidsLimit }),
    },
    ...(f.ioStat === undefined ? {} : { io: parseIoStat(f.ioStat) }),
    readAt: readAt.toISOString(),
  };
}
