import { readFileSync } from "node:fs";

/**
 * Field 22 of /proc/PID/stat (start time in clock ticks since boot): with the pid, it names a
 * process for good, so that a recycled pid is never mistaken for a container. Undefined when
 * the process is gone.
 */
export function processStartTime(pid: number | "self"): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count from the last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}
