// What v1 and v2 managers share: path checks and the kill/destroy sequence, written once over
// each version's primitives.
import { setTimeout as sleep } from "node:timers/promises";
import { CgroupError } from "./errors.js";
import { RereadableFile, readTextSync, signalPids } from "./files.js";
import type {
  CgroupApplyReport,
  CgroupLimits,
  CgroupManager,
  CgroupStats,
  CgroupStatsReader,
} from "./types.js";

/** "corral/abc" -> itself; refuses absolute paths, "..", empty parts (a path must stay inside). */
export function checkRelPath(relPath: string): string {
  const parts = relPath.split("/");
  if (
    relPath === "" ||
    parts.some((p) => p === "" || p === "." || p === ".." || p.includes("\0"))
  ) {
    throw new CgroupError(
      `invalid cgroup path "${relPath}": use a relative path such as corral/<containerId>`,
    );
  }
  return relPath;
}

const DESTROY_TIMEOUT_MS = 10_000;

/**
 * `StatFile` names the stat files a version reads (e.g. "memoryStat"); each version says where
 * they are and how their texts make stats, and the reading (once, or kept open) is shared.
 */
export abstract class BaseCgroupManager<StatFile extends string = string> implements CgroupManager {
  abstract readonly version: 1 | 2;
  constructor(readonly relPath: string) {
    checkRelPath(relPath);
  }

  abstract create(limits?: CgroupLimits): Promise<CgroupApplyReport>;
  abstract update(limits: CgroupLimits): Promise<CgroupApplyReport>;
  abstract addProcess(pid: number): Promise<void>;
  abstract freeze(): Promise<void>;
  abstract thaw(): Promise<void>;
  abstract isFrozen(): Promise<boolean>;
  abstract pids(): Promise<number[]>;
  /** Each stat file's path (`undefined`: its controller is not there). */
  protected abstract statPaths(): Record<StatFile, string | undefined>;
  /** Stats from the texts of the stat files (`undefined`: missing). */
  protected abstract statsFromTexts(
    texts: Record<StatFile, string | undefined>,
  ): Promise<CgroupStats>;
  abstract oomKilled(): Promise<number>;
  abstract exists(): Promise<boolean>;

  /** Refuses an operation on a cgroup that is not there, naming it as `where`. */
  protected async mustExist(action: string, where: string): Promise<void> {
    if (!(await this.exists())) {
      throw new CgroupError(
        `cannot ${action} cgroup ${where}: it does not exist (create it first)`,
        where,
        "ENOENT",
      );
    }
  }
  /** Whether a freezer is available at all (v1 without the freezer hierarchy: no). */
  protected abstract canFreeze(): Promise<boolean>;
  /** Kills every process atomically if the kernel can (v2 cgroup.kill); false if not. */
  protected abstract killAtomically(): Promise<boolean>;
  /** rmdir the cgroup and its descendants in every hierarchy. */
  protected abstract removeDirs(): Promise<void>;

  // Synchronous reads on purpose: see readTextSync.
  async stats(): Promise<CgroupStats> {
    return this.statsFromTexts(mapPaths(this.statPaths(), (path) => readTextSync(path)));
  }

  openStats(): CgroupStatsReader {
    const files = mapPaths(this.statPaths(), (path) => new RereadableFile(path));
    return {
      read: () => this.statsFromTexts(mapPaths(files, (file) => file.read())),
      close: () => {
        for (const file of Object.values<RereadableFile | undefined>(files)) file?.close();
      },
    };
  }

  async killAll(signal: NodeJS.Signals | number = "SIGKILL"): Promise<void> {
    if ((signal === "SIGKILL" || signal === 9) && (await this.killAtomically())) return;
    // Freeze first (as runc does) so that no process forks a child we would miss.
    const wasFrozen = (await this.canFreeze()) && (await this.isFrozen());
    let frozeHere = false;
    if (!wasFrozen && (await this.canFreeze())) {
      try {
        await this.freeze();
        frozeHere = true;
      } catch {
        // A task stuck in uninterruptible sleep can keep a freeze from completing; signal anyway.
      }
    }
    signalPids(await this.pids(), signal);
    if (frozeHere) await this.thaw();
  }

  async destroy(): Promise<void> {
    const deadline = Date.now() + DESTROY_TIMEOUT_MS;
    for (;;) {
      const pids = await this.pids();
      if (pids.length === 0) break;
      if (Date.now() > deadline) {
        throw new CgroupError(
          `destroy cgroup ${this.relPath}: processes ${pids.join(", ")} survived SIGKILL for ` +
            `${DESTROY_TIMEOUT_MS / 1000}s (uninterruptible sleep?); check /proc/<pid>/stack`,
        );
      }
      await this.killAll("SIGKILL");
      // Frozen (or half-frozen) tasks die only once thawed (cgroup v1 freezer).
      if (await this.canFreeze()) await this.thaw();
      await sleep(5);
    }
    await this.removeDirs();
  }
}

/** `f` of every defined value, keeping the keys (an undefined value stays undefined). */
function mapPaths<K extends string, V, W>(
  record: Record<K, V | undefined>,
  f: (value: V) => W,
): Record<K, W | undefined> {
  const out = {} as Record<K, W | undefined>;
  for (const key of Object.keys(record) as K[]) {
    const value = record[key];
    out[key] = value === undefined ? undefined : f(value);
  }
  return out;
}
