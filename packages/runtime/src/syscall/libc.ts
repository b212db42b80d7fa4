// The one door to system calls Node lacks. Every other module calls these typed functions;
// nothing else loads koffi. Each wrapper turns a -1 return into a SyscallError that names the
// call and its subject.
import koffi from "koffi";
import { SyscallError, errnoName } from "./errors.js";
import {
  CAPABILITIES,
  CAP_LAST_CAP,
  F_SETFD,
  PR_CAPBSET_DROP,
  PR_CAP_AMBIENT,
  PR_CAP_AMBIENT_CLEAR_ALL,
  PR_SET_CHILD_SUBREAPER,
  PR_SET_NO_NEW_PRIVS,
  RLIMIT,
  SYS_close_range,
  SYS_openat2,
  SYS_pivot_root,
  AF_NETLINK,
  type CapabilityName,
  type RlimitName,
} from "./constants.js";

type NativeFn = (...args: unknown[]) => number;

const EINTR = 4;

interface Bindings {
  mount: NativeFn;
  umount2: NativeFn;
  sethostname: NativeFn;
  unshare: NativeFn;
  setns: NativeFn;
  prctl: NativeFn;
  capset: NativeFn;
  setgroups: NativeFn;
  setresuid: NativeFn;
  setresgid: NativeFn;
  fcntl: NativeFn;
  syscall: NativeFn;
  signal: NativeFn;
  sigprocmask: NativeFn;
  prlimit: NativeFn;
  execve: NativeFn;
  mknod: NativeFn;
  mkdirat: NativeFn;
  lsetxattr: NativeFn;
  lgetxattr: NativeFn;
  llistxattr: NativeFn;
  ioctl: NativeFn;
  dup3: NativeFn;
  _exit: NativeFn;
  setsid: NativeFn;
  socket: NativeFn;
  bind: NativeFn;
  setsockopt: NativeFn;
  sendto: NativeFn;
  recv: NativeFn;
  fallocate: NativeFn;
  strerror: (errno: number) => string;
  syncfs: ReturnType<ReturnType<typeof koffi.load>["func"]>;
  flock: NativeFn;
}

let bindings: Bindings | undefined;

// koffi type objects are registered once per process; lazily so that importing the runtime
// (e.g. for its types) costs nothing.
function libc(): Bindings {
  if (bindings) return bindings;
  const lib = koffi.load("libc.so.6");
  koffi.struct("corral_rlimit", { cur: "uint64_t", max: "uint64_t" });
  koffi.struct("corral_cap_header", { version: "uint32_t", pid: "int" });
  koffi.struct("corral_sock_fprog", { len: "uint16_t", filter: "void *" });
  // The head of union bpf_attr for BPF_PROG_LOAD: the kernel zero-fills what we leave out.
  koffi.struct("corral_bpf_prog_load", {
    prog_type: "uint32_t",
    insn_cnt: "uint32_t",
    insns: "void *",
    license: "const char *",
    log_level: "uint32_t",
    log_size: "uint32_t",
    log_buf: "void *",
  });
  koffi.struct("corral_bpf_prog_attach", {
    target_fd: "uint32_t",
    attach_bpf_fd: "uint32_t",
    attach_type: "uint32_t",
    attach_flags: "uint32_t",
  });
  koffi.struct("corral_open_how", { flags: "uint64_t", mode: "uint64_t", resolve: "uint64_t" });
  koffi.struct("corral_cap_data", {
    effective: "uint32_t",
    permitted: "uint32_t",
    inheritable: "uint32_t",
  });
  const f = (decl: string): NativeFn => lib.func(decl) as NativeFn;
  bindings = {
    mount: f(
      "int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)",
    ),
    umount2: f("int umount2(const char *target, int flags)"),
    sethostname: f("int sethostname(const char *name, size_t len)"),
    unshare: f("int unshare(int flags)"),
    setns: f("int setns(int fd, int nstype)"),
    prctl: f(
      "int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)",
    ),
    capset: f("int capset(corral_cap_header *hdr, corral_cap_data *data)"),
    setgroups: f("int setgroups(size_t size, const uint32_t *list)"),
    setresuid: f("int setresuid(uint32_t r, uint32_t e, uint32_t s)"),
    setresgid: f("int setresgid(uint32_t r, uint32_t e, uint32_t s)"),
    fcntl: f("int fcntl(int fd, int cmd, ...)"),
    syscall: f("long syscall(long number, ...)"),
    signal: f("void *signal(int sig, void *handler)") as NativeFn,
    sigprocmask: f("int sigprocmask(int how, const void *set, void *old)"),
    prlimit: f(
      "int prlimit(int pid, int resource, const corral_rlimit *lim, _Out_ corral_rlimit *old)",
    ),
    execve: f("int execve(const char *path, const char **argv, const char **envp)"),
    mknod: f("int mknod(const char *path, uint32_t mode, uint64_t dev)"),
    mkdirat: f("int mkdirat(int dirfd, const char *path, uint32_t mode)"),
    lsetxattr: f(
      "int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)",
    ),
    lgetxattr: f("long lgetxattr(const char *path, const char *name, void *value, size_t size)"),
    llistxattr: f("long llistxattr(const char *path, void *list, size_t size)"),
    ioctl: f("int ioctl(int fd, unsigned long request, ...)"),
    dup3: f("int dup3(int oldfd, int newfd, int flags)"),
    _exit: f("void _exit(int status)"),
    setsid: f("int setsid(void)"),
    socket: f("int socket(int domain, int type, int protocol)"),
    bind: f("int bind(int fd, const void *addr, uint32_t len)"),
    setsockopt: f("int setsockopt(int fd, int level, int name, const void *value, uint32_t len)"),
    sendto: f(
      "long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)",
    ),
    recv: f("long recv(int fd, void *buf, size_t len, int flags)"),
    fallocate: f("int fallocate(int fd, int mode, int64_t offset, int64_t len)"),
    strerror: lib.func("const char *strerror(int errnum)") as (errno: number) => string,
    syncfs: lib.func("int syncfs(int fd)"),
    flock: f("int flock(int fd, int operation)"),
  };
  return bindings;
}

function check(result: number, call: string, subject?: string): number {
  if (result < 0) throw new SyscallError(call, koffi.errno(), subject);
  return result;
}

export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null = null,
): void {
  check(
    libc().mount(source, target, fstype, flags, data),
    `mount ${fstype ?? source ?? ""}`,
    `at ${target}`,
  );
}

export function umount2(target: string, flags: number): void {
  check(libc().umount2(target, flags), "umount", target);
}

export function pivotRoot(newRoot: string, putOld: string): void {
  check(libc().syscall(SYS_pivot_root, "str", newRoot, "str", putOld), "pivot_root", newRoot);
}

export function sethostname(name: string): void {
  check(libc().sethostname(name, Buffer.byteLength(name)), "sethostname", name);
}

export function unshare(flags: number): void {
  check(libc().unshare(flags), "unshare");
}

export function setns(fd: number, nstype: number): void {
  check(libc().setns(fd, nstype), "setns");
}

export function prctl(option: number, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
  return check(libc().prctl(option, a2, a3, a4, a5), `prctl(${option})`);
}

export function setChildSubreaper(): void {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
}

export function setNoNewPrivs(): void {
  prctl(PR_SET_NO_NEW_PRIVS, 1);
}

/** Drops every capability not in `keep` from the bounding set, clears the ambient set. */
export function limitBoundingSet(keep: ReadonlySet<CapabilityName>): void {
  const keepNumbers = new Set<number>([...keep].map((name) => CAPABILITIES[name]));
  for (let cap = 0; cap <= CAP_LAST_CAP; cap++) {
    if (!keepNumbers.has(cap)) prctl(PR_CAPBSET_DROP, cap);
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL);
}

/**
 * Sets the effective and permitted sets to exactly `caps` and empties the inheritable set, as
 * Docker does since CVE-2022-24769 (a non-empty inheritable set leaks caps into file-cap binaries).
 */
export function setCapabilities(caps: ReadonlySet<CapabilityName>): void {
  let low = 0;
  let high = 0;
  for (const name of caps) {
    const n = CAPABILITIES[name];
    if (n < 32) low |= 1 << n;
    else high |= 1 << (n - 32);
  }
  low >>>= 0;
  const header = { version: 0x20080522, pid: 0 };
  const data = [
    { effective: low, permitted: low, inheritable: 0 },
    { effective: high, permitted: high, inheritable: 0 },
  ];
  check(libc().capset(header, data), "capset");
}

export function setgroups(gids: readonly number[]): void {
  check(libc().setgroups(gids.length, Uint32Array.from(gids)), "setgroups");
}

export function setresgid(gid: number): void {
  check(libc().setresgid(gid, gid, gid), "setresgid", String(gid));
}

export function setresuid(uid: number): void {
  check(libc().setresuid(uid, uid, uid), "setresuid", String(uid));
}

/** Clears FD_CLOEXEC: Node marks even fds 0-2 close-on-exec (DESIGN.md trap 1). */
export function clearCloexec(fd: number): void {
  check(libc().fcntl(fd, F_SETFD, "int", 0), "fcntl(F_SETFD)", `fd ${fd}`);
}

/**
 * Marks every fd from `first` up close-on-exec (close_range with CLOSE_RANGE_CLOEXEC, as runc):
 * no host fd may leak into a container (CVE-2024-21626). Not closed right away, because Node's
 * own threads still use some of them until execve ends the process image (closing them under
 * a libuv thread makes it abort).
 */
export function closeOnExecFrom(first: number): void {
  const CLOSE_RANGE_CLOEXEC = 4;
  check(
    libc().syscall(SYS_close_range, "uint", first, "uint", 0xffffffff, "uint", CLOSE_RANGE_CLOEXEC),
    "close_range",
  );
}

/** Every signal back to SIG_DFL and an empty mask: Node ignores SIGPIPE/SIGXFSZ (trap 2). */
export function resetSignals(): void {
  const lib = libc();
  for (let sig = 1; sig <= 64; sig++) {
    if (sig === 9 || sig === 19 || sig === 32 || sig === 33) continue; // KILL, STOP, glibc-reserved
    lib.signal(sig, null);
  }
  check(lib.sigprocmask(2 /* SIG_SETMASK */, Buffer.alloc(128), null), "sigprocmask");
}

export const RLIM_INFINITY = 0xffffffffffffffffn;

export function setrlimit(name: RlimitName, soft: bigint, hard: bigint): void {
  check(libc().prlimit(0, RLIMIT[name], { cur: soft, max: hard }, null), "setrlimit", name);
}

export function getrlimit(name: RlimitName): { soft: bigint; hard: bigint } {
  const old = { cur: 0n, max: 0n };
  check(libc().prlimit(0, RLIMIT[name], null, old), "getrlimit", name);
  return { soft: BigInt(old.cur), hard: BigInt(old.max) };
}

/** Installs a seccomp filter (classic BPF, `struct sock_filter[]` bytes) on this thread. */
export function seccompSetFilter(program: Buffer): void {
  const SYS_seccomp = 317;
  const SECCOMP_SET_MODE_FILTER = 1;
  const prog = { len: program.length / 8, filter: program };
  check(
    libc().syscall(
      SYS_seccomp,
      "uint",
      SECCOMP_SET_MODE_FILTER,
      "uint",
      0,
      "corral_sock_fprog *",
      prog,
    ),
    "seccomp",
  );
}

const SYS_bpf = 321;
const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;

/**
 * Loads an eBPF program (`struct bpf_insn[]` bytes) of `progType`; returns its fd. On a
 * verifier rejection the error carries the verifier's last line.
 */
export function bpfProgLoad(progType: number, insns: Buffer, license: string): number {
  const load = (log: Buffer | null): number =>
    libc().syscall(
      SYS_bpf,
      "int",
      BPF_PROG_LOAD,
      "corral_bpf_prog_load *",
      {
        prog_type: progType,
        insn_cnt: insns.length / 8,
        insns,
        license,
        log_level: log ? 1 : 0,
        log_size: log ? log.length : 0,
        log_buf: log,
      },
      "uint",
      koffi.sizeof("corral_bpf_prog_load"),
    );
  const fd = load(null);
  if (fd >= 0) return fd;
  const errno = koffi.errno();
  if (errno !== 22 /* EINVAL: the verifier's reason is in its log */) {
    throw new SyscallError("bpf(BPF_PROG_LOAD)", errno);
  }
  const log = Buffer.alloc(65536);
  const retried = load(log);
  if (retried >= 0) return retried;
  const text = log
    .toString("utf8", 0, Math.max(0, log.indexOf(0)))
    .trim()
    .split("\n");
  throw new SyscallError("bpf(BPF_PROG_LOAD)", koffi.errno(), `(verifier: ${text.at(-1) ?? ""})`);
}

/** Attaches the program `progFd` to `targetFd` (e.g. a cgroup directory's fd). */
export function bpfProgAttach(
  progFd: number,
  targetFd: number,
  attachType: number,
  flags: number,
): void {
  check(
    libc().syscall(
      SYS_bpf,
      "int",
      BPF_PROG_ATTACH,
      "corral_bpf_prog_attach *",
      { target_fd: targetFd, attach_bpf_fd: progFd, attach_type: attachType, attach_flags: flags },
      "uint",
      koffi.sizeof("corral_bpf_prog_attach"),
    ),
    "bpf(BPF_PROG_ATTACH)",
  );
}

/** A new session (and process group) led by this process. */
export function setsid(): void {
  check(libc().setsid(), "setsid");
}

/** Ends the process now, without Node's teardown (for when its fds are already closed). */
export function exitImmediately(code: number): never {
  libc()._exit(code);
  throw new Error("_exit returned");
}

/** Replaces this process; returns only by throwing. */
export function execve(path: string, argv: readonly string[], env: readonly string[]): never {
  libc().execve(path, [...argv, null], [...env, null]);
  throw new SyscallError("execve", koffi.errno(), path);
}

export function mknod(path: string, mode: number, major: number, minor: number): void {
  // glibc's makedev() encoding for dev_t.
  const dev =
    (BigInt(major & 0xfff) << 8n) |
    (BigInt(major & ~0xfff) << 32n) |
    BigInt(minor & 0xff) |
    (BigInt(minor & ~0xff) << 12n);
  check(libc().mknod(path, mode, dev), "mknod", path);
}

/**
 * openat2(2): opens `path` relative to `dirfd` with `resolve` rules, e.g. RESOLVE_IN_ROOT to
 * resolve every symlink as if `dirfd` were "/" (a path a container controls, opened by the
 * host). Returns the new fd; retries on EINTR and EAGAIN (a rename raced the lookup).
 */
export function openat2(
  dirfd: number,
  path: string,
  flags: number,
  resolve: number,
  mode = 0,
): number {
  const how = { flags, mode, resolve };
  for (;;) {
    const fd = libc().syscall(
      SYS_openat2,
      "int",
      dirfd,
      "const char *",
      path,
      "corral_open_how *",
      how,
      "size_t",
      24,
    );
    if (fd >= 0) return fd;
    const errno = koffi.errno();
    if (errno !== EINTR && errno !== 11 /* EAGAIN */)
      throw new SyscallError("openat2", errno, path);
  }
}

export function mkdirat(dirfd: number, name: string, mode: number): void {
  check(libc().mkdirat(dirfd, name, mode), "mkdirat", name);
}

export function lsetxattr(path: string, name: string, value: Buffer): void {
  check(libc().lsetxattr(path, name, value, value.length, 0), "setxattr", `${name} on ${path}`);
}

/** Returns the attribute's value, or undefined when the file does not have it. */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  const buf = Buffer.alloc(4096);
  const n = libc().lgetxattr(path, name, buf, buf.length);
  if (n < 0) {
    const errno = koffi.errno();
    if (errno === 61 /* ENODATA */) return undefined;
    throw new SyscallError("getxattr", errno, `${name} on ${path}`);
  }
  return buf.subarray(0, n);
}

/** The names of the file's extended attributes (not following a symlink). */
export function llistxattr(path: string): string[] {
  const lib = libc();
  for (;;) {
    const size = check(lib.llistxattr(path, null, 0), "listxattr", path);
    if (size === 0) return [];
    const buf = Buffer.alloc(size);
    const n = lib.llistxattr(path, buf, size);
    if (n < 0 && koffi.errno() === 34 /* ERANGE: one was added meanwhile */) continue;
    check(n, "listxattr", path);
    return buf.toString("utf8", 0, n).split("\0").filter(Boolean);
  }
}

/** ioctl whose argument is an int passed by value. */
export function ioctlInt(fd: number, request: number, arg: number): number {
  return check(libc().ioctl(fd, request, "int", arg), `ioctl(0x${request.toString(16)})`);
}

/** ioctl whose argument points at `buf` (read or written by the kernel). */
export function ioctlBuffer(fd: number, request: number, buf: Buffer): number {
  return check(libc().ioctl(fd, request, "void *", buf), `ioctl(0x${request.toString(16)})`);
}

/** Makes `newFd` a copy of `oldFd` (not close-on-exec), e.g. a log file as fd 1. */
export function dup2(oldFd: number, newFd: number): void {
  if (oldFd === newFd) return clearCloexec(newFd);
  check(libc().dup3(oldFd, newFd, 0), "dup2", `fd ${oldFd} to ${newFd}`);
}

/** A socket(2) file descriptor; close it with fs.closeSync. */
export function socket(domain: number, type: number, protocol: number): number {
  return check(libc().socket(domain, type, protocol), "socket", `domain ${domain}`);
}

/** Binds a netlink socket (struct sockaddr_nl); port 0 lets the kernel pick a unique one. */
export function bindNetlink(fd: number, port = 0, groups = 0): void {
  const addr = Buffer.alloc(12);
  addr.writeUInt16LE(AF_NETLINK, 0);
  addr.writeUInt32LE(port, 4);
  addr.writeUInt32LE(groups, 8);
  check(libc().bind(fd, addr, addr.length), "bind", `netlink fd ${fd}`);
}

/** setsockopt(2) with an int value. */
export function setsockoptInt(fd: number, level: number, name: number, value: number): void {
  const buf = Buffer.alloc(4);
  buf.writeInt32LE(value);
  check(libc().setsockopt(fd, level, name, buf, 4), `setsockopt(${level}, ${name})`, `fd ${fd}`);
}

/**
 * Sends one datagram to the socket's default peer (for an unconnected netlink socket: the
 * kernel). Returns the bytes sent.
 */
export function send(fd: number, buf: Buffer, flags = 0): number {
  for (;;) {
    const n = libc().sendto(fd, buf, buf.length, flags, null, 0);
    if (n >= 0) return n;
    const errno = koffi.errno();
    if (errno !== EINTR) throw new SyscallError("send", errno, `fd ${fd}`);
  }
}

/**
 * Receives one datagram into `buf`, blocking. Returns its length (with MSG_TRUNC, its full
 * length even when `buf` was shorter).
 */
export function recv(fd: number, buf: Buffer, flags = 0): number {
  for (;;) {
    const n = libc().recv(fd, buf, buf.length, flags);
    if (n >= 0) return n;
    const errno = koffi.errno();
    if (errno !== EINTR) throw new SyscallError("recv", errno, `fd ${fd}`);
  }
}

/** The C library's text for an errno ("File exists" for EEXIST). */
export function fallocate(
  fd: number,
  mode: number,
  offset: number,
  len: number,
  subject?: string,
): void {
  check(libc().fallocate(fd, mode, offset, len), "fallocate", subject);
}

export function strerror(errno: number): string {
  return libc().strerror(errno);
}

/**
 * syncfs(2): writes every dirty page of the filesystem holding `fd` to disk. On koffi's worker
 * thread: it may take a while, and the daemon's event loop must not wait for it.
 */
export function syncfs(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    libc().syncfs.async(fd, (err: unknown, result: number) => {
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else if (result < 0) reject(new SyscallError("syncfs", koffi.errno()));
      else resolve();
    });
  });
}

const LOCK_EX = 2;
const LOCK_NB = 4;

/**
 * An exclusive flock(2) on `fd`, without waiting: false when another process holds it. The
 * kernel drops the lock when its holder dies, so a crash never leaves a stale one.
 */
export function tryLockExclusive(fd: number, subject?: string): boolean {
  if (libc().flock(fd, LOCK_EX | LOCK_NB) === 0) return true;
  const errno = koffi.errno();
  if (errnoName(errno) === "EWOULDBLOCK" || errnoName(errno) === "EAGAIN") return false;
  throw new SyscallError("flock", errno, subject);
}
