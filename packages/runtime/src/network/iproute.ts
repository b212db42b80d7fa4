// iproute2 as the way to configure links: the standard tool on every Linux host, driven with
// `ip -batch` so that a container's whole setup costs two processes. (Node has no netlink, and
// no maintained npm netlink library covers veth, bridges and netns moves.)
import { execFileSync } from "node:child_process";

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

export function linkExists(name: string): boolean {
  return ipJson<{ ifname: string }[]>(["link", "show"]).some((l) => l.ifname === name);
}
