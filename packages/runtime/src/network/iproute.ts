// iproute2 as the way to configure links: the standard tool on every Linux host, driven with
// `ip -batch` so that a container's whole setup costs two processes. (Node has no netlink, and
// no maintained npm netlink library covers veth, bridges and netns moves.)
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { runCommand } from "./command.js";

function run(file: string, args: string[], input?: string): string {
  try {
    return execFileSync(file, args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? "")
      .trim()
      .split("\n")[0];
    throw new Error(`${file} ${args.join(" ")}: ${stderr || (err as Error).message}`);
  }
}

/** Runs iproute2 commands (one per line, without the leading `ip`) on the host. */
export function ipBatch(commands: readonly string[]): void {
  run("ip", ["-batch", "-"], commands.join("\n") + "\n");
}

/** The same, inside the network namespace of process `pid`. */
export function ipBatchIn(pid: number, commands: readonly string[]): void {
  run("nsenter", ["-t", String(pid), "-n", "ip", "-batch", "-"], commands.join("\n") + "\n");
}

export function ipJson<T>(args: string[]): T {
  return JSON.parse(run("ip", ["-j", ...args]) || "[]") as T;
}

/** Runs iproute2 commands on the host, off the event loop (the daemon's start and stop paths). */
export function ipBatchAsync(commands: readonly string[]): Promise<string> {
  return runCommand("ip", ["-batch", "-"], commands.join("\n") + "\n");
}

/** The same, inside the network namespace of process `pid`. */
export function ipBatchInAsync(pid: number, commands: readonly string[]): Promise<string> {
  return runCommand(
    "nsenter",
    ["-t", String(pid), "-n", "ip", "-batch", "-"],
    commands.join("\n") + "\n",
  );
}

/**
 * Whether the host (the daemon's network namespace) has the link: its sysfs entry, rather than
 * listing every link (hundreds with hundreds of containers) through a process.
 */
export function linkExists(name: string): boolean {
  if (name.includes("/") || name === "." || name === "..") return false;
  return existsSync(`/sys/class/net/${name}`);
}
