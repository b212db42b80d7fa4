// Device access rules ("c 1:3 rwm", as devices.allow takes them) and, for cgroup v2, the
// BPF_PROG_TYPE_CGROUP_DEVICE program that enforces them (v2 has no devices.allow file).
// The program is built as runc's devicefilter builds it: load the request into registers,
// then one block per rule that jumps to the next rule on a mismatch and allows on a match;
// nothing matched means denied. Hand-assembled: no npm package emits eBPF.

/** Allowed device access, one rule each. "*" is any major or minor. */
export interface DeviceRule {
  type: "c" | "b" | "a";
  major: number | "*";
  minor: number | "*";
  /** Subset of "rwm" (read, write, mknod). */
  access: string;
}

/**
 * Device access a container gets (runc's and Docker's defaults): mknod of any node, but only
 * these may be opened. Without it root in a container could open the host's disks.
 */
export const DEFAULT_DEVICE_RULES: readonly string[] = [
  "c *:* m",
  "b *:* m",
  "c 1:3 rwm", // /dev/null
  "c 1:5 rwm", // /dev/zero
  "c 1:7 rwm", // /dev/full
  "c 1:8 rwm", // /dev/random
  "c 1:9 rwm", // /dev/urandom
  "c 5:0 rwm", // /dev/tty
  "c 5:1 rwm", // /dev/console
  "c 5:2 rwm", // /dev/ptmx
  "c 136:* rwm", // /dev/pts/*
  "c 10:200 rwm", // /dev/net/tun
];

const RULE = /^([abc]) (\*|[0-9]+):(\*|[0-9]+) ([rwm]{1,3})$/;

/** Parses "c 1:3 rwm" (the devices.allow syntax); throws a one-line error on anything else. */
export function parseDeviceRule(text: string): DeviceRule {
  const m = RULE.exec(text);
  const access = m?.[4] ?? "";
  if (!m || new Set(access).size !== access.length) {
    throw new Error(
      `bad device rule "${text}": expected TYPE MAJOR:MINOR ACCESS, e.g. "c 1:3 rwm"`,
    );
  }
  const num = (s: string | undefined): number | "*" => (s === "*" ? "*" : Number(s));
  return { type: m[1] as DeviceRule["type"], major: num(m[2]), minor: num(m[3]), access };
}

// eBPF encoding (<linux/bpf.h>, <linux/bpf_common.h>): 8 bytes per instruction.
const LDX_MEM_W = 0x61; // dst = *(u32 *)(src + off)
const ALU32_AND_K = 0x54;
const ALU32_RSH_K = 0x74;
const ALU32_MOV_X = 0xbc;
const ALU64_MOV_K = 0xb7;
const JMP_JNE_K = 0x55;
const JMP_JNE_X = 0x5d;
const JMP_EXIT = 0x95;

// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }: access_type is
// (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*.
const DEV_TYPE = { b: 1, c: 2 } as const;
const ACCESS_BIT = { m: 1, r: 2, w: 4 } as const;

// Registers: r1 the context (then scratch), r2 type, r3 requested access, r4 major, r5 minor.
interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

function insn(code: number, dst: number, src: number, off: number, imm: number): Insn {
  return { code, dst, src, off, imm };
}

/** The instructions of one rule; `skip` (patched in later) jumps past the rule. */
function ruleBlock(rule: DeviceRule): Insn[] {
  const block: Insn[] = [];
  if (rule.type !== "a") block.push(insn(JMP_JNE_K, 2, 0, -1, DEV_TYPE[rule.type]));
  const bits = [...rule.access].reduce((n, c) => n | ACCESS_BIT[c as "r" | "w" | "m"], 0);
  if (bits !== 7) {
    // The requested access must be within the rule's: (requested & allowed) == requested.
    block.push(insn(ALU32_MOV_X, 1, 3, 0, 0));
    block.push(insn(ALU32_AND_K, 1, 0, 0, bits));
    block.push(insn(JMP_JNE_X, 1, 3, -1, 0));
  }
  if (rule.major !== "*") block.push(insn(JMP_JNE_K, 4, 0, -1, rule.major));
  if (rule.minor !== "*") block.push(insn(JMP_JNE_K, 5, 0, -1, rule.minor));
  block.push(insn(ALU64_MOV_K, 0, 0, 0, 1));
  block.push(insn(JMP_EXIT, 0, 0, 0, 0));
  // Every mismatch jumps to the first instruction after the block.
  block.forEach((ins, i) => {
    if (ins.off === -1) ins.off = block.length - i - 1;
  });
  return block;
}

/**
 * The cgroup device program for `rules` (allow rules; anything they do not allow is denied),
 * as `struct bpf_insn[]` bytes.
 */
export function deviceFilterProgram(rules: readonly DeviceRule[]): Buffer {
  const program: Insn[] = [
    insn(LDX_MEM_W, 2, 1, 0, 0),
    insn(ALU32_AND_K, 2, 0, 0, 0xffff),
    insn(LDX_MEM_W, 3, 1, 0, 0),
    insn(ALU32_RSH_K, 3, 0, 0, 16),
    insn(LDX_MEM_W, 4, 1, 4, 0),
    insn(LDX_MEM_W, 5, 1, 8, 0),
  ];
  for (const rule of rules) program.push(...ruleBlock(rule));
  program.push(insn(ALU64_MOV_K, 0, 0, 0, 0));
  program.push(insn(JMP_EXIT, 0, 0, 0, 0));
  const out = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    out.writeUInt8(ins.code, i * 8);
    out.writeUInt8((ins.src << 4) | ins.dst, i * 8 + 1);
    out.writeInt16LE(ins.off, i * 8 + 2);
    out.writeInt32LE(ins.imm, i * 8 + 4);
  });
  return out;
}

/**
 * Runs a program from `deviceFilterProgram` as the kernel would, for tests: whether access
 * ("r", "w", "m" or several) to the device is allowed.
 */
export function evaluateDeviceFilter(
  program: Buffer,
  type: "c" | "b",
  major: number,
  minor: number,
  access: string,
): boolean {
  const bits = [...access].reduce((n, c) => n | ACCESS_BIT[c as "r" | "w" | "m"], 0);
  const ctx = [(bits << 16) | DEV_TYPE[type], major, minor];
  const reg = new Array<number>(11).fill(0);
  for (let pc = 0; pc < program.length / 8; pc++) {
    const code = program.readUInt8(pc * 8);
    const dst = program.readUInt8(pc * 8 + 1) & 0xf;
    const src = program.readUInt8(pc * 8 + 1) >> 4;
    const off = program.readInt16LE(pc * 8 + 2);
    const imm = program.readInt32LE(pc * 8 + 4);
    const r = (n: number): number => reg[n] ?? 0;
    switch (code) {
      case LDX_MEM_W:
        if (src !== 1) throw new Error(`load from r${src}, not the context`);
        reg[dst] = ctx[off / 4] ?? 0;
        break;
      case ALU32_AND_K:
        reg[dst] = (r(dst) & imm) >>> 0;
        break;
      case ALU32_RSH_K:
        reg[dst] = r(dst) >>> imm;
        break;
      case ALU32_MOV_X:
      case ALU64_MOV_K:
        reg[dst] = code === ALU32_MOV_X ? r(src) : imm;
        break;
      case JMP_JNE_K:
        if (r(dst) !== imm) pc += off;
        break;
      case JMP_JNE_X:
        if (r(dst) !== r(src)) pc += off;
        break;
      case JMP_EXIT:
        return r(0) === 1;
      default:
        throw new Error(`unknown opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error("device program fell off its end");
}
