import { test } from "node:test";
import assert from "node:assert/strict";
import { memberComponents } from "./paths.js";

test("member names resolve lexically inside the root", () => {
  assert.deepEqual(memberComponents("./etc/passwd", "entry"), ["etc", "passwd"]);
  assert.deepEqual(memberComponents("etc//x/./y/", "entry"), ["etc", "x", "y"]);
  assert.deepEqual(memberComponents("a/../b", "entry"), ["b"]);
  assert.deepEqual(memberComponents("./", "entry"), []);
  assert.deepEqual(memberComponents("/", "entry"), []);
});

test("absolute and escaping names are refused", () => {
  assert.throws(
    () => memberComponents("/etc/passwd", "entry"),
    /entry "\/etc\/passwd" has an absolute path/,
  );
  assert.throws(() => memberComponents("../x", "entry"), /escapes/);
  assert.throws(() => memberComponents("a/../../x", "entry"), /escapes/);
  assert.throws(() => memberComponents("", "entry"), /empty name/);
  assert.throws(() => memberComponents("a\0b", "entry"), /NUL/);
});
