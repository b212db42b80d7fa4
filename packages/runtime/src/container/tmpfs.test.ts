import { test } from "node:test";
import assert from "node:assert/strict";
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY } from "../syscall/index.js";
import { tmpfsMount } from "./tmpfs.js";

test("a tmpfs without options gets Docker's noexec,nosuid,nodev and the kernel's size and mode", () => {
  assert.deepEqual(tmpfsMount(""), { flags: MS_NOSUID | MS_NODEV | MS_NOEXEC, data: "" });
});

test("flag options turn flags on and off; the rest is the tmpfs's data", () => {
  assert.deepEqual(tmpfsMount("exec,size=65536,mode=1770,ro"), {
    flags: MS_NOSUID | MS_NODEV | MS_RDONLY,
    data: "size=65536,mode=1770",
  });
  assert.equal(tmpfsMount("exec,noexec").flags & MS_NOEXEC, MS_NOEXEC, "the last one counts");
});

test("other options are refused in one line", () => {
  assert.throws(() => tmpfsMount("suid"), /^Error: invalid tmpfs option "suid": use size=/);
  assert.throws(() => tmpfsMount("size=1g,huge=always"), /invalid tmpfs option "huge=always"/);
});
