import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_DEVICE_RULES,
  deviceFilterProgram,
  evaluateDeviceFilter,
  parseDeviceRule,
} from "./device-filter.js";

const program = deviceFilterProgram(DEFAULT_DEVICE_RULES.map(parseDeviceRule));

test("default rules: the standard nodes open, host disks and other devices do not", () => {
  for (const [major, minor] of [
    [1, 3],
    [1, 5],
    [1, 7],
    [1, 8],
    [1, 9],
    [5, 0],
    [5, 2],
    [136, 0],
    [136, 4095],
  ] as const) {
    for (const access of ["r", "w", "rw", "m", "rwm"]) {
      assert.ok(evaluateDeviceFilter(program, "c", major, minor, access), `c ${major}:${minor}`);
    }
  }
  for (const [type, major, minor] of [
    ["b", 8, 0], // sda
    ["b", 253, 0], // vda / dm-0
    ["c", 1, 1], // /dev/mem
    ["c", 1, 2], // /dev/kmem
    ["c", 4, 1], // tty1
    ["c", 10, 237], // loop-control
  ] as const) {
    for (const access of ["r", "w", "rw"]) {
      assert.equal(
        evaluateDeviceFilter(program, type, major, minor, access),
        false,
        `${type} ${major}:${minor} ${access}`,
      );
    }
    // mknod of any node is allowed (Docker's default), opening it is not.
    assert.ok(evaluateDeviceFilter(program, type, major, minor, "m"));
    assert.equal(evaluateDeviceFilter(program, type, major, minor, "rm"), false);
  }
});

test("access, type and wildcards of a rule are each honoured", () => {
  const p = deviceFilterProgram(["c 10:* r", "a 7:3 w"].map(parseDeviceRule));
  assert.ok(evaluateDeviceFilter(p, "c", 10, 99, "r"));
  assert.equal(evaluateDeviceFilter(p, "c", 10, 99, "w"), false);
  assert.equal(evaluateDeviceFilter(p, "b", 10, 99, "r"), false);
  assert.ok(evaluateDeviceFilter(p, "b", 7, 3, "w"));
  assert.ok(evaluateDeviceFilter(p, "c", 7, 3, "w"));
  assert.equal(evaluateDeviceFilter(p, "c", 7, 4, "w"), false);
  assert.equal(evaluateDeviceFilter(deviceFilterProgram([]), "c", 1, 3, "r"), false);
});

test("the emitted program: a fixed prologue, a block per rule, deny at the end", () => {
  const p = deviceFilterProgram([parseDeviceRule("c 1:3 rw")]);
  const ins = (i: number): string => p.subarray(i * 8, i * 8 + 8).toString("hex");
  assert.equal(p.length / 8, 6 + 8 + 2);
  assert.equal(ins(0), "6112000000000000"); // r2 = *(u32 *)(r1 + 0)
  assert.equal(ins(5), "6115080000000000"); // r5 = *(u32 *)(r1 + 8)
  assert.equal(ins(6), "5502070002000000"); // if r2 != 2 (char) goto +7 (next rule)
  assert.equal(ins(9), "5d31040000000000"); // if r1 != r3 (access not within rw) goto +4
  assert.equal(ins(14), "b700000000000000"); // r0 = 0
  assert.equal(ins(15), "9500000000000000"); // exit
});

test("bad rules are refused in one line", () => {
  for (const bad of ["c 1:3", "x 1:3 r", "c 1:3 rr", "c a:3 r", "c 1:3 rwmx"]) {
    assert.throws(() => parseDeviceRule(bad), /bad device rule .*e\.g\. "c 1:3 rwm"/);
  }
});
