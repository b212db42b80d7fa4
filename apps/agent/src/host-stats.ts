// The host's own load at 1 Hz: CPU % from /proc/stat (the change of busy jiffies over all
// jiffies between two reads, as top does), used memory from /proc/meminfo (MemTotal -
// MemAvailable, as free does), /proc/loadavg, and statfs of the runtime's state root. Read by
// hand: the three files are one line each to parse, and the npm packages for this
// (systeminformation, node-os-utils) spawn processes or sleep a second per CPU read.
import { readFileSync, statfsSync } from "node:fs";
import type { HostStatsSample } from "@corral/protocol";

export interface CpuTimes {
  busy: number;
  total: number;
}

/** The aggregate `cpu` line of /proc/stat: busy and total jiffies since boot. */
export function parseProcStat(text: string): CpuTimes {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error("/proc/stat has no aggregate cpu line");
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already
  // counted in user and nice, so it is left out of the total.
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

/** MemTotal and MemAvailable from /proc/meminfo, in bytes. */
export function parseMeminfo(text: string): { totalBytes: number; availableBytes: number } {
  const kib = (key: string): number | undefined => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const totalBytes = kib("MemTotal") ?? 0;
  // Kernels before 3.14 lack MemAvailable: free + page cache is what it approximates.
  const availableBytes =
    kib("MemAvailable") ?? (kib("MemFree") ?? 0) + (kib("Cached") ?? 0) + (kib("Buffers") ?? 0);
  return { totalBytes, availableBytes };
}

export function parseLoadavg(text: string): [number, number, number] {
  const [a, b, c] = text.trim().split(/\s+/).map(Number);
  return [a ?? 0, b ?? 0, c ?? 0].map((x) => (Number.isFinite(x) ? x : 0)) as [
    number,
    number,
    number,
  ];
}

/** CPU % of the whole machine between two reads (0 when no time passed). */
export function cpuPercentBetween(before: CpuTimes, now: CpuTimes): number {
  const total = now.total - before.total;
  if (total <= 0) return 0;
  return Math.min(100, Math.max(0, ((now.busy - before.busy) / total) * 100));
}

export interface HostStatsSources {
  /** where the runtime keeps its state (its filesystem's use is the disk shown) */
  stateRoot: string;
  /** the files to read; /proc by default (tests give their own) */
  read?: (path: string) => string;
}

export class HostStatsReader {
  private last: CpuTimes | undefined;
  private readonly read: (path: string) => string;

  constructor(private readonly src: HostStatsSources) {
    this.read = src.read ?? ((p) => readFileSync(p, "utf8"));
    this.last = parseProcStat(this.read("/proc/stat"));
  }

  /** One sample; its CPU % covers the time since the previous call (or the constructor). */
  sample(): HostStatsSample {
    const stat = this.read("/proc/stat");
    const cpu = parseProcStat(stat);
    const cpuPercent = this.last ? cpuPercentBetween(this.last, cpu) : 0;
    this.last = cpu;
    const mem = parseMeminfo(this.read("/proc/meminfo"));
    const [load1, load5, load15] = parseLoadavg(this.read("/proc/loadavg"));
    let diskTotalBytes = 0;
    let diskUsedBytes = 0;
    for (const dir of [this.src.stateRoot, "/"]) {
      try {
        const s = statfsSync(dir);
        diskTotalBytes = s.blocks * s.bsize;
        diskUsedBytes = (s.blocks - s.bfree) * s.bsize;
        break;
      } catch {
        // the state root does not exist before the daemon's first start: the root fs then
      }
    }
    return {
      time: new Date().toISOString(),
      cpuPercent,
      cpus: stat.match(/^cpu\d+ /gm)?.length ?? 0,
      memoryUsedBytes: Math.max(0, mem.totalBytes - mem.availableBytes),
      memoryTotalBytes: mem.totalBytes,
      load1,
      load5,
      load15,
      diskUsedBytes,
      diskTotalBytes,
    };
  }
}
