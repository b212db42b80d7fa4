// `corral-rt exec`: runs in the CLI's own process (root on the container's host), so that a
// terminal goes straight from the user's tty to the container's pty without a daemon hop.
import { closeSync } from "node:fs";
import { execInContainer } from "../exec/index.js";
import { openProcessRoot, readFileInRoot } from "../container/root-files.js";
import { containerCapabilities } from "../container/capabilities.js";
import { parseSecurityOpts, seccompProgramFor } from "../container/security-opts.js";
import { resolveUser, type ResolvedUser } from "../container/user.js";

/** The part of `inspect` that exec needs. */
export interface ContainerView {
  Id: string;
  State: { Running: boolean; Pid: number; PidStartTime?: string };
  Config: { Env: string[]; User: string; WorkingDir: string };
  HostConfig: { SecurityOpt: string[] | null; CapAdd: string[] | null; CapDrop: string[] | null };
}

export interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  env?: string[];
  user?: string;
  workdir?: string;
  detach?: boolean;
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

export async function execCommand(c: ContainerView, args: string[], f: ExecFlags): Promise<number> {
  const pid = c.State.Pid;
  const startTime = c.State.PidStartTime || undefined;
  const user = userOf(f.user ?? c.Config.User, pid, startTime);
  const byKey = new Map<string, string>();
  for (const e of [...c.Config.Env, ...(f.tty ? ["TERM=xterm"] : []), ...(f.env ?? [])]) {
    byKey.set(e.slice(0, e.indexOf("=")), e);
  }
  if (!byKey.has("HOME")) byKey.set("HOME", `HOME=${user.home}`);
  // The container's own options: its exec'd processes get the filter its init got.
  const security = parseSecurityOpts(c.HostConfig.SecurityOpt ?? []);
  const caps = containerCapabilities(c.HostConfig.CapAdd ?? [], c.HostConfig.CapDrop ?? []);
  const seccomp = seccompProgramFor(security, caps);
  const common = {
    pid,
    ...(startTime === undefined ? {} : { startTime: Number(startTime) }),
    args,
    env: [...byKey.values()],
    cwd: f.workdir ?? c.Config.WorkingDir ?? "/",
    uid: user.uid,
    gid: user.gid,
    additionalGids: user.additionalGids,
    capabilities: caps,
    noNewPrivileges: security.noNewPrivileges,
    ...(seccomp ? { seccomp } : {}),
    stdin: Boolean(f.interactive) && !f.detach,
  };
  if (!f.tty || f.detach) {
    const exec = execInContainer({ ...common, tty: false, stdio: f.detach ? "pipe" : "inherit" });
    if (f.detach) return 0;
    return (await exec.exit).exitCode;
  }
  const stdin = process.stdin;
  const exec = execInContainer({
    ...common,
    tty: true,
    cols: process.stdout.columns || 80,
    rows: process.stdout.rows || 24,
  });
  const raw = stdin.isTTY;
  if (raw) stdin.setRawMode(true);
  if (f.interactive) stdin.pipe(exec.terminal);
  exec.terminal.pipe(process.stdout);
  const onResize = (): void => exec.resize(process.stdout.columns, process.stdout.rows);
  process.stdout.on("resize", onResize);
  try {
    return (await exec.exit).exitCode;
  } finally {
    process.stdout.off("resize", onResize);
    if (raw) stdin.setRawMode(false);
    stdin.unpipe(exec.terminal);
    stdin.pause();
  }
}
