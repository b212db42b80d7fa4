import { readFileSync } from "node:fs";

/**
 * Field 22 of /proc/PID/stat (start time in clock ticks since boot): with the pid, it names a
 * process for good, so that a recycled pid is never mistaken for a container. Undefined when
 * the process is gone.
 */
export function processStartTime(pid: number | "self"): string | undefined {
  return statFields(pid)?.[19];
}

/** processStartTime from a /proc/PID/stat text already read. */
export function startTimeOf(stat: string): string | undefined {
  return fieldsOf(stat)[19];
}

/** Fields of /proc/PID/stat after the command name ([0] is the state, field 3). */
function statFields(pid: number | "self"): string[] | undefined {
  try {
    return fieldsOf(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

function fieldsOf(stat: string): string[] {
  // The command name (field 2) may hold spaces and parentheses: count from the last ")".
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/**
 * Whether `pid` is a live process. A zombie is not: a killed process whose parent has not
 * reaped it yet (e.g. a daemon killed with -9 under a subreaper) holds its pid but nothing else.
 */
export function processAlive(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== "Z" && state !== "X";
}
