// One interface over cgroup v1 and v2 (cf. youki's libcgroups `CgroupManager` trait): the rest
// of the runtime never looks at a cgroup file itself.

/**
 * Resource limits of one container, in Docker's terms. `undefined` leaves a setting as it is
 * (on create: the kernel default, i.e. unlimited). -1 means "unlimited" where allowed.
 */
export interface CgroupLimits {
  /** `--memory`: hard limit in bytes, at least 6 MiB; -1 removes the limit. */
  memoryBytes?: number;
  /**
   * `--memory-swap`: memory *plus* swap in bytes (Docker semantics), -1 for unlimited swap.
   * Needs `memoryBytes` (or an existing memory limit on update) and must not be below it.
   * v1: memory.memsw.limit_in_bytes; v2: memory.swap.max = memorySwapBytes - memoryBytes.
   * Docker's default when only `--memory` is given (swap = memory) is the caller's policy.
   */
  memorySwapBytes?: number;
  /** CFS quota per period in µs (`--cpus 0.5` = 50000 per 100000); -1 removes the quota. */
  cpuQuotaMicros?: number;
  /** CFS period in µs, 1000..1000000; default 100000. */
  cpuPeriodMicros?: number;
  /** `--cpu-shares`, 2..262144 (v2: converted to cpu.weight like runc). */
  cpuShares?: number;
  /** `--pids-limit`: max number of tasks; -1 for unlimited. */
  pidsLimit?: number;
}

/** What `create`/`update` could not do although nothing requested failed. */
export interface CgroupApplyReport {
  /** Controllers this container's cgroup has (stats of missing ones read as 0/undefined). */
  controllers: string[];
  /** Human-readable notes: controllers missing for stats, protections not enforced, ... */
  warnings: string[];
}

export interface CgroupStats {
  cpu: {
    usageNanos: number;
    userNanos: number;
    systemNanos: number;
    throttledPeriods: number;
    throttledNanos: number;
    onlineCpus: number;
  };
  memory: {
    usageBytes: number;
    /** The limit, or the host's total memory when unlimited (like `docker stats`). */
    limitBytes: number;
    cacheBytes: number;
    /** usage minus inactive file pages, what `docker stats` shows as MEM USAGE. */
    workingSetBytes: number;
    maxUsageBytes?: number;
    oomKills: number;
  };
  pids: { current: number; limit?: number };
  io?: { readBytes: number; writeBytes: number };
  /** ISO 8601 time the files were read. */
  readAt: string;
}

export interface CgroupManager {
  readonly version: 1 | 2;
  /** Path relative to each hierarchy's root, e.g. `corral/<containerId>`. */
  readonly relPath: string;
  /**
   * Creates the cgroup (and missing parents) and applies `limits`. Throws, naming the limit, when
   * a requested limit's controller is unavailable; reports what else is missing. Devices: the
   * default rules (device-filter.ts) plus `extraDeviceRules` ("c 1:3 rwm" each, for --device).
   */
  create(limits?: CgroupLimits, extraDeviceRules?: readonly string[]): Promise<CgroupApplyReport>;
  /** Changes limits of an existing cgroup; same errors as `create`. */
  update(limits: CgroupLimits): Promise<CgroupApplyReport>;
  /** Moves a process (and its threads) into the cgroup in every hierarchy. */
  addProcess(pid: number): Promise<void>;
  /** Freezes every task and resolves once the kernel reports the cgroup frozen. */
  freeze(): Promise<void>;
  /** Thaws and resolves once the kernel reports the cgroup thawed. */
  thaw(): Promise<void>;
  isFrozen(): Promise<boolean>;
  /** Pids of every process in the cgroup and its descendants, as seen from this pid namespace. */
  pids(): Promise<number[]>;
  stats(): Promise<CgroupStats>;
  /** Stats for sampling again and again: the files stay open until `close()`. */
  openStats(): CgroupStatsReader;
  /** How many processes the kernel OOM killer has killed in this cgroup. */
  oomKilled(): Promise<number>;
  /** Sends `signal` to every process (frozen meanwhile so none forks away from it). */
  killAll(signal?: NodeJS.Signals | number): Promise<void>;
  /**
   * SIGKILLs what is left, waits until the cgroup is empty and removes it (and descendants) from
   * every hierarchy. Idempotent; parents such as `corral` stay.
   */
  destroy(): Promise<void>;
  exists(): Promise<boolean>;
}

/** Result of probing /proc/self/mountinfo. */
export type CgroupLayout =
  | {
      kind: "v1";
      /** controller (`memory`, `cpu`, ..., `name=systemd`) -> mountpoint of its hierarchy. */
      mounts: Map<string, string>;
      /** A cgroup2 mount beside the v1 ones (hybrid, e.g. /sys/fs/cgroup/unified), if any. */
      unified?: string;
    }
  | { kind: "v2"; root: string };

/** A cgroup's stat files kept open (see `RereadableFile`): one pread per file per sample. */
export interface CgroupStatsReader {
  read(): Promise<CgroupStats>;
  close(): void;
}
