#!/usr/bin/env node
// A pre-started container init. The runtime daemon starts it (through util-linux `unshare`)
// as pid 1 of fresh pid, mount, uts, ipc and net namespaces, before any container needs it;
// it reports "ready" on fd 3 and blocks reading one spec line on stdin. On a spec it joins a
// fresh cgroup namespace (the daemon has already placed it in the container's cgroups),
// builds the rootfs, pivots, drops privileges and execs the user's command: no Node process
// is started on the container start path.
import {
  closeSync,
  constants,
  fchownSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  readlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import {
  CLONE_NEWCGROUP,
  RLIM_INFINITY,
  clearCloexec,
  closeOnExecFrom,
  dup2,
  execve,
  seccompSetFilter,
  ioctlInt,
  setsid,
  exitImmediately,
  getrlimit,
  limitBoundingSet,
  resetSignals,
  sethostname,
  setCapabilities,
  setgroups,
  setNoNewPrivs,
  setresgid,
  setresuid,
  setrlimit,
  unshare,
} from "../syscall/index.js";
import { initSpecSchema, type InitSpec, type InitStatus } from "./init-spec.js";
import { CommandError, resolveCommand } from "./exec-path.js";
import { pivotInto, setupRootfs } from "./rootfs.js";
import { openRoot, readFileInRoot } from "./root-files.js";
import { resolveUser } from "./user.js";
import { DEFAULT_PATH } from "./defaults.js";
import { hostCgroupLayout } from "../cgroups/detect.js";
import { processStartTime } from "../util/proc.js";
import { configureInterface, linkIndex, loopbackUp } from "../network/netlink.js";

const STATUS_FD = 3;
const TIOCSCTTY = 0x540e;

function report(status: InitStatus): void {
  const line = Buffer.from(JSON.stringify(status) + "\n");
  let off = 0;
  while (off < line.length) {
    try {
      off += writeSync(STATUS_FD, line, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
    }
  }
}

function readSpecLine(): string | undefined {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EAGAIN") continue;
      throw err;
    }
    if (n === 0) return undefined;
    const nl = buf.subarray(0, n).indexOf(10);
    if (nl >= 0) {
      chunks.push(Buffer.from(buf.subarray(0, nl)));
      return Buffer.concat(chunks).toString("utf8");
    }
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
}

function step<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new Error(`${name}: ${(err as Error).message}`);
  }
}

function envValue(env: readonly string[], key: string): string | undefined {
  const entry = env.findLast((e) => e.startsWith(`${key}=`));
  return entry?.slice(key.length + 1);
}

/**
 * As Docker on a network without IPv6: no IPv6 on the interface, not even a link-local address
 * (set while it is still down, so none is ever made). lo keeps ::1.
 */
function disableIpv6(ifName: string): void {
  try {
    writeFileSync(`/proc/sys/net/ipv6/conf/${ifName}/disable_ipv6`, "1");
  } catch (err) {
    // A kernel without IPv6 (ipv6.disable=1) has nothing to turn off.
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

function becomeContainer(spec: InitSpec): never {
  const proc = spec.process;
  // Opened while the host's filesystem is still visible; becomes fds 1 and 2 at the end.
  const logFd = step("open log file", () => openSync(proc.logPath, "a", 0o640));
  step("cgroup namespace", () => unshare(CLONE_NEWCGROUP));
  const net = spec.network;
  if (net) {
    step("ipv6 off", () => disableIpv6(net.ifName));
    step("network", () => configureInterface(net)); // brings lo up too
  } else if (spec.loopback) step("loopback", () => loopbackUp());
  step("rootfs", () => setupRootfs(spec));
  step("pivot_root", () => pivotInto(spec.rootfs.mountPoint, spec.rootfs.readOnly));
  step("hostname", () => sethostname(spec.hostname));
  let ttyFd: number | undefined;
  if (proc.stdio === "tty") {
    report({ type: "rootfs" });
    const reply = readSpecLine();
    const n = reply === undefined ? NaN : (JSON.parse(reply) as { pty?: unknown }).pty;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0)
      throw new Error("no pty from the daemon");
    ttyFd = step("open terminal", () =>
      openSync(`/dev/pts/${n}`, constants.O_RDWR | constants.O_NOCTTY),
    );
  }

  const user = step("user", () => {
    // The image controls these files: read inside the root, regular files only, size capped.
    const root = openRoot("/");
    try {
      return resolveUser(
        proc.user,
        readFileInRoot(root, "/etc/passwd"),
        readFileInRoot(root, "/etc/group"),
      );
    } finally {
      closeSync(root);
    }
  });
  const env = [...proc.env];
  if (envValue(env, "HOME") === undefined) env.push(`HOME=${user.home}`);
  step(`working directory ${proc.cwd}`, () => {
    mkdirSync(proc.cwd, { recursive: true, mode: 0o755 }); // Docker creates a missing WORKDIR
    process.chdir(proc.cwd);
  });
  const args = proc.initBinary ? ["/dev/init", "--", ...proc.args] : proc.args;
  const path = resolveCommand(args[0] as string, envValue(env, "PATH") ?? DEFAULT_PATH, proc.cwd);

  step("rlimits", () => {
    for (const r of proc.rlimits) {
      const v = (n: number): bigint => (n < 0 ? RLIM_INFINITY : BigInt(n));
      const current = getrlimit(r.name);
      const hard = v(r.hard) > current.hard ? current.hard : v(r.hard);
      const soft = v(r.soft) > hard ? hard : v(r.soft);
      setrlimit(r.name, soft, hard);
    }
  });
  // Opened while still root, like the log file: the user may not be allowed to.
  const nullFd = openSync("/dev/null", "r");
  if (ttyFd !== undefined) {
    const tty = ttyFd;
    step("terminal owner", () => fchownSync(tty, user.uid, fstatSync(tty).gid));
  }
  const caps = new Set(proc.capabilities);
  const seccomp = proc.seccomp === undefined ? undefined : Buffer.from(proc.seccomp, "base64");
  // Without no_new_privs the kernel installs a filter only for CAP_SYS_ADMIN: while we have it
  // (runc's order). The rest of the setup then runs under the filter too.
  if (seccomp && !proc.noNewPrivileges) step("seccomp", () => seccompSetFilter(seccomp));
  step("capabilities bounding set", () => limitBoundingSet(caps));
  step("user", () => {
    setgroups(user.additionalGids);
    setresgid(user.gid);
    setresuid(user.uid);
  });
  // A non-root user keeps no capability across exec, as under Docker: setresuid emptied the
  // permitted and effective sets, and the inheritable one is emptied here (whatever the daemon
  // was started with), as nsexec does for exec.
  step("capabilities", () => setCapabilities(user.uid === 0 ? caps : new Set()));
  if (proc.noNewPrivileges) step("no_new_privs", () => setNoNewPrivs());
  // Last of the setup: from here on, the calls the filter denies are denied to us too.
  if (seccomp && proc.noNewPrivileges) step("seccomp", () => seccompSetFilter(seccomp));
  process.umask(0o022);

  if (ttyFd !== undefined) {
    // A session of its own with the pty as controlling terminal: job control, ^C, SIGWINCH.
    setsid();
    ioctlInt(ttyFd, TIOCSCTTY, 0);
    dup2(ttyFd, 0);
    dup2(ttyFd, 1);
    dup2(ttyFd, 2);
  } else {
    if (proc.stdio === "null") dup2(nullFd, 0);
    dup2(logFd, 1);
    dup2(logFd, 2);
  }
  report({ type: "exec" });
  closeOnExecFrom(3);
  resetSignals();
  clearCloexec(0);
  try {
    execve(path, args, env);
  } catch (err) {
    // Report on the container's stderr and leave without Node's teardown.
    const code = (err as { code?: string }).code === "ENOENT" ? 127 : 126;
    writeSync(2, `corral-init: ${(err as Error).message}\n`);
    exitImmediately(code);
  }
}

/**
 * Work every start would do first, done while the init waits in the pool instead: loading
 * libc's bindings, compiling the spec schema, reading the host's cgroup layout. A start then
 * pays only for its own mounts and credentials.
 */
function prewarm(): void {
  getrlimit("RLIMIT_NOFILE");
  linkIndex("lo"); // binds the netlink calls (a few ms on first use)
  hostCgroupLayout();
  initSpecSchema.safeParse({
    containerId: "0".repeat(64),
    rootfs: { lowerDirs: ["/"], upperDir: "/", workDir: "/", mountPoint: "/", readOnly: false },
    etcFiles: [{ source: "/", target: "/" }],
    mounts: [{ type: "tmpfs", target: "/", options: "" }],
    hostname: "warm",
    process: {
      args: ["true"],
      env: [],
      cwd: "/",
      user: "",
      capabilities: [],
      noNewPrivileges: true,
      seccomp: "AAAA",
      rlimits: [],
      logPath: "/",
      stdio: "null",
    },
  });
}

function main(): void {
  prewarm();
  const hostPid = Number(readlinkSync("/proc/self"));
  const startTime = processStartTime("self") ?? "0";
  report({ type: "ready", hostPid, startTime });
  const line = readSpecLine();
  if (line === undefined) process.exit(0); // the pool is shutting down
  let exitCode = 125;
  try {
    const spec = initSpecSchema.parse(JSON.parse(line));
    becomeContainer(spec);
  } catch (err) {
    if (err instanceof CommandError) exitCode = err.exitCode;
    const message = (err as Error).message.split("\n")[0] ?? "unknown error";
    try {
      report({ type: "error", exitCode, message });
    } catch {
      // fd 3 is already closed when exec itself failed
    }
    try {
      writeSync(2, `corral-init: ${message}\n`);
    } catch {
      // nothing left to tell
    }
    closeSync(0);
    process.exit(exitCode);
  }
}

main();
