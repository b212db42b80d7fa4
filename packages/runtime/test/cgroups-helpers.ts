// Shared by the privileged cgroup tests: processes that wait on stdin until they are in their
// cgroup, and how to read their CPU time.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { once } from "node:events";

export const MiB = 1024 * 1024;

const children = new Set<ChildProcess>();

/** Starts `sh -c "read; exec <command>"`: the command runs only once `go()` is called. */
export function spawnGated(command: string): { child: ChildProcess; pid: number; go: () => void } {
  const child = spawn("sh", ["-c", `read _; exec ${command}`], {
    stdio: ["pipe", "ignore", "ignore"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  if (child.pid === undefined) throw new Error(`spawn ${command} failed`);
  return { child, pid: child.pid, go: () => child.stdin?.write("\n") };
}

export function killChildren(): void {
  for (const child of children) child.kill("SIGKILL");
}

export async function exitOf(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return { code: child.exitCode, signal: child.signalCode };
  }
  const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
  return { code, signal };
}

/** utime + stime of a process in clock ticks (/proc/PID/stat fields 14 and 15). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

export function cgroupOf(pid: number): string {
  return readFileSync(`/proc/${pid}/cgroup`, "utf8");
}

/** A path no other test run uses, so leftovers of a crashed run never collide. */
export function testParent(): string {
  return `corral-test-${process.pid}-${Date.now().toString(36)}`;
}
