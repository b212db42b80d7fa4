import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ARCH_X86_64,
  DENIED_SYSCALLS,
  SECCOMP_ACTIONS,
  defaultSeccompProgram,
  evaluateSeccomp,
} from "./seccomp.js";

const program = defaultSeccompProgram();

test("ordinary calls pass, escapes get EPERM, clone3 ENOSYS", () => {
  for (const nr of [0, 1, 2, 56, 57, 59, 60, 231]) {
    assert.equal(evaluateSeccomp(program, ARCH_X86_64, nr), SECCOMP_ACTIONS.allow, `syscall ${nr}`);
  }
  for (const [name, nr] of Object.entries(DENIED_SYSCALLS)) {
    assert.equal(evaluateSeccomp(program, ARCH_X86_64, nr), SECCOMP_ACTIONS.eperm, name);
  }
  assert.equal(evaluateSeccomp(program, ARCH_X86_64, 435), SECCOMP_ACTIONS.enosys);
});

test("other ABIs cannot go around the list", () => {
  assert.equal(evaluateSeccomp(program, 0x40000003 /* i386 */, 165), SECCOMP_ACTIONS.kill);
  assert.equal(evaluateSeccomp(program, ARCH_X86_64, 0x40000000 + 165), SECCOMP_ACTIONS.eperm);
});
