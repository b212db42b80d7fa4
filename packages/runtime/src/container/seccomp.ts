// Compiles a seccomp profile (Docker's format, container/seccomp-profile.ts) into the classic
// BPF program the kernel runs on each system call, with Docker's and runc's semantics:
// - rules apply when the container has the capabilities they include (all of them) and none
//   they exclude, on this architecture (amd64) and kernel (minKernel);
// - a call with an unconditional rule takes its action; otherwise its argument rules are
//   tried in order (the conditions of one rule all hold), then the default action;
// - calls numbered above every call the profile names get ENOSYS, not the default errno, so
//   that libcs fall back from calls newer than the profile (runc does the same);
// - other ABIs: x32 numbers get the default action, i386 (int 0x80) kills the process.
// The program is a binary search over the call numbers (a linear list of ~370 calls would
// cost every call hundreds of instructions). Hand-written: no maintained npm package builds
// seccomp programs (libseccomp is C).
import { release } from "node:os";
import type { CapabilityName } from "../syscall/index.js";
import { DEFAULT_SECCOMP_PROFILE } from "./seccomp-default.js";
import type {
  SeccompAction,
  SeccompOperator,
  SeccompProfile,
  SeccompRule,
} from "./seccomp-profile.js";
import { SYSCALLS_X86_64 } from "./syscalls-x86_64.js";

const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
const EPERM = 1;
const ENOSYS = 38;
/** Docker's name for this architecture in `includes.arches` / `excludes.arches`. */
const NATIVE_ARCH = "amd64";

// Classic BPF opcodes (<linux/filter.h>) and seccomp return values (<linux/seccomp.h>).
const LD_W_ABS = 0x20;
const ALU_AND_K = 0x54;
const JA = 0x05;
const JEQ_K = 0x15;
const JGT_K = 0x25;
const JGE_K = 0x35;
const RET_K = 0x06;
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const OFFSET_ARGS = 16;

export const SECCOMP_RET = {
  killThread: 0x00000000,
  killProcess: 0x80000000,
  trap: 0x00030000,
  errno: 0x00050000,
  trace: 0x7ff00000,
  log: 0x7ffc0000,
  allow: 0x7fff0000,
} as const;

interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** A conditional jump's target, resolved when its block is finished. */
type Label = { at?: number };

/** Forward-only assembler for one self-contained block (every path ends in a RET). */
class Block {
  readonly code: (Instruction & { jtLabel?: Label; jfLabel?: Label })[] = [];

  emit(code: number, k: number, jt: Label | number = 0, jf: Label | number = 0): void {
    this.code.push({
      code,
      k: k >>> 0,
      jt: typeof jt === "number" ? jt : 0,
      jf: typeof jf === "number" ? jf : 0,
      ...(typeof jt === "number" ? {} : { jtLabel: jt }),
      ...(typeof jf === "number" ? {} : { jfLabel: jf }),
    });
  }

  bind(label: Label): void {
    label.at = this.code.length;
  }

  finish(): Instruction[] {
    return this.code.map((ins, pc) => {
      const offset = (label: Label | undefined, plain: number): number => {
        if (!label) return plain;
        if (label.at === undefined || label.at <= pc) throw new Error("seccomp: unbound label");
        const off = label.at - pc - 1;
        if (off > 255) throw new Error("seccomp: a rule is too long for a BPF jump");
        return off;
      };
      return {
        code: ins.code,
        k: ins.k,
        jt: offset(ins.jtLabel, ins.jt),
        jf: offset(ins.jfLabel, ins.jf),
      };
    });
  }
}

function actionValue(
  action: SeccompAction,
  errnoRet: number | undefined,
  defaultErrno: number,
): number {
  switch (action) {
    case "SCMP_ACT_ALLOW":
      return SECCOMP_RET.allow;
    case "SCMP_ACT_ERRNO":
      return SECCOMP_RET.errno | (errnoRet ?? defaultErrno);
    case "SCMP_ACT_TRACE":
      return SECCOMP_RET.trace | (errnoRet ?? defaultErrno);
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return SECCOMP_RET.killThread;
    case "SCMP_ACT_KILL_PROCESS":
      return SECCOMP_RET.killProcess;
    case "SCMP_ACT_TRAP":
      return SECCOMP_RET.trap;
    case "SCMP_ACT_LOG":
      return SECCOMP_RET.log;
  }
}

interface Condition {
  index: number;
  op: SeccompOperator;
  value: bigint;
  valueTwo: bigint;
}

interface CompiledRule {
  conditions: Condition[];
  ret: number;
}

const hi = (v: bigint): number => Number((v >> 32n) & 0xffffffffn);
const lo = (v: bigint): number => Number(v & 0xffffffffn);

/**
 * Emits a 64-bit argument comparison: falls through when it holds, jumps to `fail` when not.
 * The argument's halves are compared high word first (seccomp_data holds them little-endian).
 */
function emitCondition(b: Block, c: Condition, fail: Label): void {
  const hiAt = OFFSET_ARGS + c.index * 8 + 4;
  const loAt = OFFSET_ARGS + c.index * 8;
  const pass: Label = {};
  switch (c.op) {
    case "SCMP_CMP_EQ":
    case "SCMP_CMP_MASKED_EQ": {
      const masked = c.op === "SCMP_CMP_MASKED_EQ";
      // MASKED_EQ: (arg & value) == valueTwo.
      const [mask, want] = masked ? [c.value, c.valueTwo] : [0xffffffffffffffffn, c.value];
      b.emit(LD_W_ABS, hiAt);
      if (masked) b.emit(ALU_AND_K, hi(mask));
      b.emit(JEQ_K, hi(want), 0, fail);
      b.emit(LD_W_ABS, loAt);
      if (masked) b.emit(ALU_AND_K, lo(mask));
      b.emit(JEQ_K, lo(want), 0, fail);
      return;
    }
    case "SCMP_CMP_NE":
      b.emit(LD_W_ABS, hiAt);
      b.emit(JEQ_K, hi(c.value), 0, pass);
      b.emit(LD_W_ABS, loAt);
      b.emit(JEQ_K, lo(c.value), fail, 0);
      break;
    case "SCMP_CMP_GT":
    case "SCMP_CMP_GE":
      b.emit(LD_W_ABS, hiAt);
      b.emit(JGT_K, hi(c.value), pass, 0);
      b.emit(JEQ_K, hi(c.value), 0, fail);
      b.emit(LD_W_ABS, loAt);
      b.emit(c.op === "SCMP_CMP_GT" ? JGT_K : JGE_K, lo(c.value), 0, fail);
      break;
    case "SCMP_CMP_LT":
    case "SCMP_CMP_LE":
      b.emit(LD_W_ABS, hiAt);
      b.emit(JGE_K, hi(c.value), 0, pass);
      b.emit(JEQ_K, hi(c.value), 0, fail);
      b.emit(LD_W_ABS, loAt);
      // LT: fail when lo >= value; LE: fail when lo > value.
      b.emit(c.op === "SCMP_CMP_LT" ? JGE_K : JGT_K, lo(c.value), fail, 0);
      break;
  }
  b.bind(pass);
}

/** The code for one call: its rules in order, then the default action. */
function callBlock(rules: readonly CompiledRule[], defaultRet: number): Instruction[] {
  const b = new Block();
  const unconditional = rules.find((r) => r.conditions.length === 0);
  if (unconditional) {
    b.emit(RET_K, unconditional.ret);
    return b.finish();
  }
  for (const rule of rules) {
    const next: Label = {};
    for (const c of rule.conditions) emitCondition(b, c, next);
    b.emit(RET_K, rule.ret);
    b.bind(next);
  }
  b.emit(RET_K, defaultRet);
  return b.finish();
}

const LEAF_SIZE = 4;

/** A binary search over `calls` (sorted by number); numbers between them get the default. */
function dispatch(calls: readonly [number, Instruction[]][], defaultRet: number): Instruction[] {
  if (calls.length <= LEAF_SIZE) {
    const out: Instruction[] = [];
    for (const [nr, block] of calls) {
      if (block.length > 255) throw new Error(`seccomp: the rules of call ${nr} are too long`);
      out.push({ code: JEQ_K, jt: 0, jf: block.length, k: nr }, ...block);
    }
    out.push({ code: RET_K, jt: 0, jf: 0, k: defaultRet });
    return out;
  }
  const mid = Math.floor(calls.length / 2);
  const left = dispatch(calls.slice(0, mid), defaultRet);
  const right = dispatch(calls.slice(mid), defaultRet);
  const pivot = calls[mid]?.[0] ?? 0;
  // nr >= pivot: through the JA, over the left half; else over the JA into the left half.
  return [
    { code: JGE_K, jt: 0, jf: 1, k: pivot },
    { code: JA, jt: 0, jf: 0, k: left.length },
    ...left,
    ...right,
  ];
}

function kernelAtLeast(kernel: string, min: string): boolean {
  const [a = 0, b = 0] = kernel.split(/[.-]/).map(Number);
  const [c = 0, d = 0] = min.split(".").map(Number);
  return a > c || (a === c && b >= d);
}

function applies(rule: SeccompRule, caps: ReadonlySet<string>, kernel: string): boolean {
  const { includes: inc, excludes: exc } = rule;
  if (inc?.caps?.some((c) => !caps.has(c))) return false;
  if (inc?.arches && !inc.arches.includes(NATIVE_ARCH)) return false;
  if (inc?.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return false;
  if (exc?.caps?.some((c) => caps.has(c))) return false;
  if (exc?.arches?.includes(NATIVE_ARCH)) return false;
  if (exc?.minKernel && kernelAtLeast(kernel, exc.minKernel)) return false;
  return true;
}

/**
 * The program for `profile` in a container with capabilities `caps`, as
 * `struct sock_filter[]` bytes (8 bytes each, little-endian).
 */
export function compileSeccomp(
  profile: SeccompProfile,
  caps: Iterable<CapabilityName>,
  kernel = release(),
): Buffer {
  const capSet = new Set<string>(caps);
  const defaultErrno = profile.defaultErrnoRet ?? EPERM;
  const defaultRet = actionValue(profile.defaultAction, undefined, defaultErrno);
  const byNumber = new Map<number, CompiledRule[]>();
  let newest = -1;
  for (const rule of profile.syscalls ?? []) {
    const names = [...(rule.names ?? []), ...(rule.name === undefined ? [] : [rule.name])];
    // Names of other architectures (or newer than this table) are skipped, as Docker does.
    const numbers = names.flatMap((n) => SYSCALLS_X86_64[n] ?? []);
    for (const nr of numbers) newest = Math.max(newest, nr);
    if (!applies(rule, capSet, kernel)) continue;
    const compiled: CompiledRule = {
      ret: actionValue(rule.action, rule.errnoRet, defaultErrno),
      conditions: (rule.args ?? []).map((a) => ({
        index: a.index,
        op: a.op,
        value: BigInt(a.value),
        valueTwo: BigInt(a.valueTwo ?? 0),
      })),
    };
    for (const nr of numbers) byNumber.set(nr, [...(byNumber.get(nr) ?? []), compiled]);
  }
  const calls = [...byNumber.entries()]
    .sort(([a], [b]) => a - b)
    .map(([nr, rules]): [number, Instruction[]] => [nr, callBlock(rules, defaultRet)]);
  const ret = (k: number): Instruction => ({ code: RET_K, jt: 0, jf: 0, k });
  const program: Instruction[] = [
    { code: LD_W_ABS, jt: 0, jf: 0, k: OFFSET_ARCH },
    { code: JEQ_K, jt: 1, jf: 0, k: AUDIT_ARCH_X86_64 },
    ret(SECCOMP_RET.killProcess),
    { code: LD_W_ABS, jt: 0, jf: 0, k: OFFSET_NR },
    // x32 numbers would otherwise reach the x86-64 rules of the same number.
    { code: JGE_K, jt: 0, jf: 1, k: X32_SYSCALL_BIT },
    ret(defaultRet),
  ];
  // Only where unknown calls are refused anyway: a profile that allows or logs them keeps that.
  const refusesUnknown = defaultRet !== SECCOMP_RET.allow && defaultRet !== SECCOMP_RET.log;
  if (newest >= 0 && refusesUnknown) {
    program.push({ code: JGT_K, jt: 0, jf: 1, k: newest }, ret(SECCOMP_RET.errno | ENOSYS));
  }
  program.push(...dispatch(calls, defaultRet));
  if (program.length > 4096)
    throw new Error("seccomp: the profile needs more than 4096 BPF instructions");
  const out = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    out.writeUInt16LE(ins.code, i * 8);
    out.writeUInt8(ins.jt, i * 8 + 2);
    out.writeUInt8(ins.jf, i * 8 + 3);
    out.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return out;
}

/** Docker's default profile for a container with `caps`. */
export function defaultSeccompProgram(caps: Iterable<CapabilityName>): Buffer {
  return compileSeccomp(DEFAULT_SECCOMP_PROFILE, caps);
}

/** What a system call looks like to the filter (struct seccomp_data). */
export interface SeccompCall {
  nr: number;
  arch?: number;
  args?: readonly (bigint | number)[];
}

/** Runs a program the way the kernel would, for tests: the return value for `call`. */
export function evaluateSeccomp(program: Buffer, call: SeccompCall): number {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(call.nr >>> 0, OFFSET_NR);
  data.writeUInt32LE((call.arch ?? AUDIT_ARCH_X86_64) >>> 0, OFFSET_ARCH);
  (call.args ?? []).forEach((a, i) =>
    data.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), OFFSET_ARGS + i * 8),
  );
  let acc = 0;
  for (let pc = 0; pc < program.length / 8; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    switch (code) {
      case LD_W_ABS:
        acc = data.readUInt32LE(k);
        break;
      case ALU_AND_K:
        acc = (acc & k) >>> 0;
        break;
      case JA:
        pc += k;
        break;
      case JEQ_K:
        pc += acc === k ? jt : jf;
        break;
      case JGT_K:
        pc += acc > k ? jt : jf;
        break;
      case JGE_K:
        pc += acc >= k ? jt : jf;
        break;
      case RET_K:
        return k;
      default:
        throw new Error(`unknown BPF opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error("seccomp program fell off its end");
}

export const ARCH_X86_64 = AUDIT_ARCH_X86_64;
export const SECCOMP_ERRNO = (errno: number): number => SECCOMP_RET.errno | errno;
