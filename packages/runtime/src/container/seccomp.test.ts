import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_CAPABILITIES } from "./defaults.js";
import {
  SECCOMP_ERRNO,
  SECCOMP_RET,
  compileSeccomp,
  defaultSeccompProgram,
  evaluateSeccomp,
  type SeccompCall,
} from "./seccomp.js";
import { parseSeccompProfile } from "./seccomp-profile.js";
import { SYSCALLS_X86_64 as NR } from "./syscalls-x86_64.js";

const EPERM = SECCOMP_ERRNO(1);
const ENOSYS = SECCOMP_ERRNO(38);
const ALLOW = SECCOMP_RET.allow;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNET = 0x40000000;
const THREAD_FLAGS = 0x3d0f00; // what glibc's pthread_create passes
const program = defaultSeccompProgram(DEFAULT_CAPABILITIES);
const run = (call: SeccompCall, p = program): number => evaluateSeccomp(p, call);
const nr = (name: string): number => NR[name] ?? -1;

test("everyday calls are allowed", () => {
  for (const name of ["read", "write", "openat", "mmap", "execve", "exit_group", "futex", "rseq"]) {
    assert.equal(run({ nr: nr(name) }), ALLOW, name);
  }
  assert.equal(run({ nr: nr("clone"), args: [THREAD_FLAGS] }), ALLOW, "threads");
  assert.equal(run({ nr: nr("clone"), args: [17 /* SIGCHLD: fork */] }), ALLOW, "fork");
  assert.equal(run({ nr: nr("socket"), args: [2 /* AF_INET */] }), ALLOW);
});

test("calls past the namespaces fail with EPERM without their capability", () => {
  for (const name of [
    "mount",
    "umount2",
    "pivot_root",
    "unshare",
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "open_by_handle_at",
    "swapon",
    "swapoff",
    "reboot",
    "ptrace_not_a_call",
    "iopl",
    "ioperm",
    "settimeofday",
    "clock_settime",
    "acct",
    "syslog",
    "fsopen",
    "fsmount",
    "move_mount",
    "open_tree",
    "io_uring_setup",
    "quotactl",
  ].filter((n) => nr(n) >= 0)) {
    assert.equal(run({ nr: nr(name) }), EPERM, name);
  }
  assert.equal(run({ nr: nr("clone"), args: [CLONE_NEWUSER | CLONE_NEWNET | 17] }), EPERM);
  assert.equal(run({ nr: nr("clone"), args: [CLONE_NEWUSER] }), EPERM);
  // A flag in the upper half of the 64-bit register is no way around the mask.
  assert.equal(run({ nr: nr("clone"), args: [(1n << 32n) | BigInt(CLONE_NEWUSER)] }), EPERM);
  assert.equal(run({ nr: nr("socket"), args: [40 /* AF_VSOCK */] }), EPERM);
});

test("clone3 gets ENOSYS (libc falls back to clone); newer calls too", () => {
  assert.equal(run({ nr: nr("clone3") }), ENOSYS);
  assert.equal(run({ nr: 467 }), ENOSYS, "above every call the profile names");
  assert.equal(run({ nr: 1000 }), ENOSYS);
});

test("personality: its harmless values only", () => {
  for (const v of [0, 8, 0x20000, 0x20008, 0xffffffff]) {
    assert.equal(run({ nr: nr("personality"), args: [v] }), ALLOW, `0x${v.toString(16)}`);
  }
  for (const v of [0x0040000 /* ADDR_NO_RANDOMIZE */, 0x1, 0x100000000 + 8]) {
    assert.equal(run({ nr: nr("personality"), args: [v] }), EPERM, `0x${v.toString(16)}`);
  }
});

test("capabilities open what they guard, as under Docker", () => {
  const admin = defaultSeccompProgram([...DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"]);
  assert.equal(run({ nr: nr("mount") }, admin), ALLOW);
  assert.equal(run({ nr: nr("unshare") }, admin), ALLOW);
  assert.equal(run({ nr: nr("clone"), args: [CLONE_NEWUSER] }, admin), ALLOW);
  assert.equal(run({ nr: nr("clone3") }, admin), ALLOW);
  assert.equal(run({ nr: nr("reboot") }, admin), EPERM, "needs CAP_SYS_BOOT");
  const ptrace = defaultSeccompProgram([...DEFAULT_CAPABILITIES, "CAP_SYS_PTRACE"]);
  assert.equal(run({ nr: nr("process_vm_readv") }, ptrace), ALLOW);
});

test("other ABIs cannot go around the rules", () => {
  assert.equal(run({ nr: nr("mount"), arch: 0x40000003 /* i386 */ }), SECCOMP_RET.killProcess);
  assert.equal(run({ nr: 0x40000000 + nr("read") }), EPERM, "x32");
});

test("every argument operator, on 64-bit values", () => {
  const p = compileSeccomp(
    parseSeccompProfile(
      JSON.stringify({
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [
          {
            names: ["read"],
            action: "SCMP_ACT_ALLOW",
            args: [{ index: 0, value: 5, op: "SCMP_CMP_NE" }],
          },
          {
            names: ["write"],
            action: "SCMP_ACT_ALLOW",
            args: [{ index: 2, value: 2 ** 33, op: "SCMP_CMP_GT" }],
          },
          {
            names: ["close"],
            action: "SCMP_ACT_ALLOW",
            args: [{ index: 0, value: 3, op: "SCMP_CMP_GE" }],
          },
          {
            names: ["dup"],
            action: "SCMP_ACT_ALLOW",
            args: [{ index: 0, value: 2 ** 32, op: "SCMP_CMP_LT" }],
          },
          {
            names: ["dup2"],
            action: "SCMP_ACT_ALLOW",
            args: [{ index: 1, value: 7, op: "SCMP_CMP_LE" }],
          },
          {
            names: ["kill"],
            action: "SCMP_ACT_ERRNO",
            errnoRet: 13,
            args: [
              { index: 0, value: 1, op: "SCMP_CMP_EQ" },
              { index: 1, value: 0xff, valueTwo: 9, op: "SCMP_CMP_MASKED_EQ" },
            ],
          },
          {
            names: ["kill"],
            action: "SCMP_ACT_ALLOW",
            args: [{ index: 0, value: 2, op: "SCMP_CMP_EQ" }],
          },
        ],
      }),
    ),
    [],
  );
  const r = (name: string, ...args: (number | bigint)[]): number => run({ nr: nr(name), args }, p);
  assert.equal(r("read", 4), ALLOW);
  assert.equal(r("read", 5), EPERM);
  assert.equal(r("read", 2n ** 32n + 5n), ALLOW);
  assert.equal(r("write", 0, 0, 2 ** 33), EPERM);
  assert.equal(r("write", 0, 0, 2 ** 33 + 1), ALLOW);
  assert.equal(r("write", 0, 0, 2 ** 34), ALLOW);
  assert.equal(r("close", 2), EPERM);
  assert.equal(r("close", 3), ALLOW);
  assert.equal(r("dup", 2 ** 32 - 1), ALLOW);
  assert.equal(r("dup", 2 ** 32), EPERM);
  assert.equal(r("dup2", 0, 7), ALLOW);
  assert.equal(r("dup2", 0, 8), EPERM);
  assert.equal(r("kill", 1, 0x109), SECCOMP_ERRNO(13), "both conditions: the first rule");
  assert.equal(r("kill", 1, 0x10a), EPERM, "second condition fails: no rule");
  assert.equal(r("kill", 2, 0), ALLOW, "the second rule");
  assert.equal(r("uname"), ENOSYS, "above every named call");
  assert.equal(r("fork"), EPERM, "not named: the default");
});

test("bad profiles are refused in one line naming the problem", () => {
  const bad: [unknown, RegExp][] = [
    ["{", /not JSON/],
    [{}, /at defaultAction/],
    [{ defaultAction: "SCMP_ACT_NOTIFY" }, /at defaultAction: /],
    [{ defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_AARCH64"] }, /SCMP_ARCH_X86_64/],
    [
      { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ action: "SCMP_ACT_ERRNO" }] },
      /at syscalls\.0: a rule needs names/,
    ],
    [
      {
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [
          {
            names: ["read"],
            action: "SCMP_ACT_ERRNO",
            args: [{ index: 6, value: 0, op: "SCMP_CMP_EQ" }],
          },
        ],
      },
      /at syscalls\.0\.args\.0\.index/,
    ],
    [
      {
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", errnoRet: 1 }],
      },
      /errnoRet is only for/,
    ],
  ];
  for (const [profile, message] of bad) {
    const text = typeof profile === "string" ? profile : JSON.stringify(profile);
    assert.throws(
      () => parseSeccompProfile(text),
      (err: Error) =>
        message.test(err.message) &&
        !err.message.includes("\n") &&
        /^bad seccomp profile/.test(err.message),
      text,
    );
  }
});

test("the default program stays small and within BPF's limits", () => {
  assert.ok(program.length / 8 < 1200, `${program.length / 8} instructions`);
});

test("a profile that allows by default keeps allowing calls newer than it", () => {
  const p = compileSeccomp(
    parseSeccompProfile(
      '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}',
    ),
    [],
  );
  assert.equal(run({ nr: 500 }, p), ALLOW);
  assert.equal(run({ nr: nr("mkdir") }, p), EPERM);
});
