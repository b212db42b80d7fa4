// Who holds a host port: for the error that refuses to publish it. Another Corral runtime on
// the same machine (a second agent's private corral-rtd) binds the ports it publishes too, so
// a clash is seen at bind time; this names the holder instead of a bare "already allocated".
// Hand-written: no maintained package maps a port to its process (it is /proc/net + /proc/PID/fd).
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { runtimePaths } from "../paths.js";

const TCP_LISTEN = "0A";

/** Socket inodes bound to `port` in this network namespace (listening ones for TCP). */
export function socketInodes(
  port: number,
  protocol: "tcp" | "udp",
  procNet = "/proc/net",
): Set<string> {
  const inodes = new Set<string>();
  for (const file of [protocol, `${protocol}6`]) {
    let text: string;
    try {
      text = readFileSync(`${procNet}/${file}`, "utf8");
    } catch {
      continue; // no IPv6 here
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      const local = f[1];
      if (!local || f.length < 10) continue;
      if (parseInt(local.slice(local.lastIndexOf(":") + 1), 16) !== port) continue;
      if (protocol === "tcp" && f[3] !== TCP_LISTEN) continue;
      if (f[9] && f[9] !== "0") inodes.add(f[9]);
    }
  }
  return inodes;
}

/** The pid of a process with one of these sockets open, if any is visible. */
function pidHolding(inodes: Set<string>): number | undefined {
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // gone meanwhile
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (m && inodes.has(m[1] as string)) return Number(entry);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

function envOf(pid: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const kv of readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")) {
    const i = kv.indexOf("=");
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

/**
 * "another Corral runtime (corral-rtd pid 12, state root /x)", "nginx (pid 34)", or undefined
 * when no process of this namespace shows it (e.g. it went away meanwhile).
 */
export function describePortHolder(port: number, protocol: "tcp" | "udp"): string | undefined {
  const pid = pidHolding(socketInodes(port, protocol));
  if (pid === undefined) return undefined;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
    if (cmd.startsWith("corral-rtd"))
      return `another Corral runtime (corral-rtd pid ${pid}, state root ${runtimePaths(envOf(pid)).root})`;
    const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    return `${comm} (pid ${pid})`;
  } catch {
    return `pid ${pid}`;
  }
}
