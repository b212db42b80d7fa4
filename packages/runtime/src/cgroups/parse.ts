// Pure parsers for the cgroup file formats (Documentation/admin-guide/cgroup-v2.rst,
// "Interface Files" conventions; v1 files use the same shapes).

/** "key value" lines (cpu.stat, memory.stat, memory.events, cpuacct.stat, oom_control). */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    if (!key || value === undefined) continue;
    const n = Number(value);
    if (Number.isFinite(n)) out.set(key, n);
  }
  return out;
}

/** A single number, or `undefined` for "max"/empty (memory.max, pids.max, pids.current). */
export function parseSingleValue(text: string): number | undefined {
  const t = text.trim();
  if (t === "" || t === "max") return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** v2 io.stat: "MAJ:MIN rbytes=1 wbytes=2 ..." per device, summed over devices. */
export function parseIoStat(text: string): { readBytes: number; writeBytes: number } {
  let readBytes = 0;
  let writeBytes = 0;
  for (const line of text.split("\n")) {
    for (const field of line.trim().split(/\s+/).slice(1)) {
      const [key, value] = field.split("=");
      if (key === "rbytes") readBytes += Number(value) || 0;
      else if (key === "wbytes") writeBytes += Number(value) || 0;
    }
  }
  return { readBytes, writeBytes };
}

/** v1 blkio.*io_service_bytes*: "MAJ:MIN Read 123" per device and op, plus a "Total" line. */
export function parseBlkioServiceBytes(text: string): { readBytes: number; writeBytes: number } {
  let readBytes = 0;
  let writeBytes = 0;
  for (const line of text.split("\n")) {
    const [device, op, value] = line.trim().split(/\s+/);
    if (!device || !op || value === undefined || !device.includes(":")) continue;
    if (op === "Read") readBytes += Number(value) || 0;
    else if (op === "Write") writeBytes += Number(value) || 0;
  }
  return { readBytes, writeBytes };
}

/** "0-3,8,10-11" -> 7 (cpuset.cpus, /sys/devices/system/cpu/online). */
export function countCpuList(text: string): number {
  let count = 0;
  for (const part of text.trim().split(",")) {
    if (part === "") continue;
    const [lo, hi] = part.split("-").map(Number);
    if (lo === undefined || !Number.isInteger(lo)) continue;
    count += hi !== undefined && Number.isInteger(hi) ? hi - lo + 1 : 1;
  }
  return count;
}

/** cgroup.procs / tasks: one pid a line. */
export function parsePidList(text: string): number[] {
  const pids: number[] = [];
  for (const line of text.split("\n")) {
    const n = Number.parseInt(line, 10);
    if (Number.isInteger(n) && n > 0) pids.push(n);
  }
  return pids;
}

/** Space-separated controller names (cgroup.controllers, cgroup.subtree_control). */
export function parseControllerList(text: string): Set<string> {
  return new Set(text.trim().split(/\s+/).filter(Boolean));
}
