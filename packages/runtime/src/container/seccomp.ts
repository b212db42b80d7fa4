// A default seccomp filter, in the spirit of Docker's default profile: the system calls that
// let a container reach past its namespaces (kernel modules, kexec, new mount API, keyrings,
// new namespaces, perf, bpf, io_uring, clock setting, ...) fail with EPERM; clone3 fails with
// ENOSYS so that libc falls back to clone, as under Docker. Docker's profile is an allowlist of
// ~350 calls; this denylist covers the escapes that profile exists for and is small enough to
// read. Built as classic BPF here: no maintained npm package generates seccomp programs.

/** x86-64 numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
export const DENIED_SYSCALLS: Readonly<Record<string, number>> = {
  uselib: 134,
  ustat: 136,
  sysfs: 139,
  pivot_root: 155,
  _sysctl: 156,
  acct: 163,
  settimeofday: 164,
  mount: 165,
  umount2: 166,
  swapon: 167,
  swapoff: 168,
  reboot: 169,
  iopl: 172,
  ioperm: 173,
  create_module: 174,
  init_module: 175,
  delete_module: 176,
  get_kernel_syms: 177,
  query_module: 178,
  quotactl: 179,
  nfsservctl: 180,
  lookup_dcookie: 212,
  clock_settime: 227,
  mbind: 237,
  set_mempolicy: 238,
  get_mempolicy: 239,
  kexec_load: 246,
  add_key: 248,
  request_key: 249,
  keyctl: 250,
  unshare: 272,
  move_pages: 279,
  perf_event_open: 298,
  name_to_handle_at: 303,
  open_by_handle_at: 304,
  clock_adjtime: 305,
  setns: 308,
  process_vm_readv: 310,
  process_vm_writev: 311,
  kcmp: 312,
  finit_module: 313,
  kexec_file_load: 320,
  bpf: 321,
  userfaultfd: 323,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  mount_setattr: 442,
};

const CLONE3 = 435;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
const EPERM = 1;
const ENOSYS = 38;

// Classic BPF opcodes (<linux/filter.h>) and seccomp return values (<linux/seccomp.h>).
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const RET_KILL_PROCESS = 0x80000000;
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;

interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** The filter as `struct sock_filter[]` bytes (8 bytes each, little-endian). */
export function defaultSeccompProgram(): Buffer {
  const denied = Object.values(DENIED_SYSCALLS);
  const program: Instruction[] = [];
  const add = (code: number, k: number, jt = 0, jf = 0): void =>
    void program.push({ code, jt, jf, k });
  // Layout: [0] load arch, [1] check, [2] kill, [3] load nr, [4] x32 check, [5..] denied, clone3,
  // then allow, EPERM, ENOSYS.
  const firstDenied = 5;
  const allowAt = firstDenied + denied.length + 1;
  const epermAt = allowAt + 1;
  const enosysAt = allowAt + 2;
  add(LD_W_ABS, OFFSET_ARCH);
  add(JEQ_K, AUDIT_ARCH_X86_64, 1, 0); // another ABI (i386 via int 0x80) is killed
  add(RET_K, RET_KILL_PROCESS);
  add(LD_W_ABS, OFFSET_NR);
  add(JGE_K, X32_SYSCALL_BIT, epermAt - 5, 0); // x32 numbers would bypass the list
  for (const nr of denied) add(JEQ_K, nr, epermAt - (program.length + 1), 0);
  add(JEQ_K, CLONE3, enosysAt - (program.length + 1), 0);
  add(RET_K, RET_ALLOW);
  add(RET_K, RET_ERRNO | EPERM);
  add(RET_K, RET_ERRNO | ENOSYS);
  const out = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    if (ins.jt > 255 || ins.jf > 255) throw new Error("seccomp program too long for BPF jumps");
    out.writeUInt16LE(ins.code, i * 8);
    out.writeUInt8(ins.jt, i * 8 + 2);
    out.writeUInt8(ins.jf, i * 8 + 3);
    out.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return out;
}

/** Runs the program the way the kernel would, for tests: the action for (arch, nr). */
export function evaluateSeccomp(program: Buffer, arch: number, nr: number): number {
  let acc = 0;
  for (let pc = 0; pc < program.length / 8;) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    if (code === LD_W_ABS) acc = k === OFFSET_ARCH ? arch : nr;
    else if (code === JEQ_K) pc += acc === k ? jt : jf;
    else if (code === JGE_K) pc += acc >>> 0 >= k ? jt : jf;
    else if (code === RET_K) return k;
    pc++;
  }
  throw new Error("seccomp program fell off its end");
}

export const SECCOMP_ACTIONS = {
  allow: RET_ALLOW,
  eperm: RET_ERRNO | EPERM,
  enosys: RET_ERRNO | ENOSYS,
  kill: RET_KILL_PROCESS,
};
export const ARCH_X86_64 = AUDIT_ARCH_X86_64;
