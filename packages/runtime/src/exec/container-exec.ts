// What an exec into a container runs with, from the container's inspect view: the same user,
// environment, capabilities, no_new_privs and seccomp filter its init got. One function for
// every caller (`corral-rt exec`, the agent), so no caller can exec with fewer restrictions.
import { closeSync } from "node:fs";
import { containerCapabilities } from "../container/capabilities.js";
import { openProcessRoot, readFileInRoot } from "../container/root-files.js";
import { parseSecurityOpts, seccompProgramFor } from "../container/security-opts.js";
import { resolveUser, type ResolvedUser } from "../container/user.js";
import type { ExecOptions } from "./exec.js";

/** The part of `inspect` that exec needs. */
export interface ContainerView {
  Id: string;
  State: { Running: boolean; Pid: number; PidStartTime?: string };
  Config: { Env: string[]; User: string; WorkingDir: string };
  HostConfig: { SecurityOpt: string[] | null; CapAdd: string[] | null; CapDrop: string[] | null };
}

/** What the caller of an exec chooses (Docker's `exec` flags). */
export interface ExecRequest {
  args: string[];
  tty: boolean;
  /** Whether the command gets input. */
  stdin: boolean;
  env?: string[] | undefined;
  user?: string | undefined;
  workdir?: string | undefined;
}

/**
 * The user to run as, from the container's own /etc/passwd and /etc/group: read through its
 * init's root (checked to be the init that started at `startTime`), inside that root.
 */
function userOf(spec: string, pid: number, startTime: string | undefined): ResolvedUser {
  const root = openProcessRoot(pid, startTime);
  try {
    return resolveUser(
      spec,
      readFileInRoot(root, "/etc/passwd"),
      readFileInRoot(root, "/etc/group"),
    );
  } finally {
    closeSync(root);
  }
}

/** The options for `execInContainer` (less tty size and stdio, which are the caller's). */
export function containerExecOptions(
  c: ContainerView,
  req: ExecRequest,
): Omit<ExecOptions, "tty" | "cols" | "rows" | "stdio"> {
  const pid = c.State.Pid;
  const startTime = c.State.PidStartTime || undefined;
  const user = userOf(req.user ?? c.Config.User, pid, startTime);
  const byKey = new Map<string, string>();
  for (const e of [...c.Config.Env, ...(req.tty ? ["TERM=xterm"] : []), ...(req.env ?? [])]) {
    byKey.set(e.slice(0, e.indexOf("=")), e);
  }
  if (!byKey.has("HOME")) byKey.set("HOME", `HOME=${user.home}`);
  // The container's own options: its exec'd processes get the filter its init got.
  const security = parseSecurityOpts(c.HostConfig.SecurityOpt ?? []);
  const caps = containerCapabilities(c.HostConfig.CapAdd ?? [], c.HostConfig.CapDrop ?? []);
  const seccomp = seccompProgramFor(security, caps);
  return {
    pid,
    ...(startTime === undefined ? {} : { startTime: Number(startTime) }),
    args: req.args,
    env: [...byKey.values()],
    cwd: req.workdir ?? (c.Config.WorkingDir || "/"),
    uid: user.uid,
    gid: user.gid,
    additionalGids: user.additionalGids,
    capabilities: caps,
    noNewPrivileges: security.noNewPrivileges,
    ...(seccomp ? { seccomp } : {}),
    stdin: req.stdin,
  };
}
