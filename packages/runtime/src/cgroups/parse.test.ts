import { test } from "node:test";
import assert from "node:assert/strict";
import {
  countCpuList,
  parseBlkioServiceBytes,
  parseControllerList,
  parseFlatKeyed,
  parseIoStat,
  parsePidList,
  parseSingleValue,
} from "./parse.js";

test("flat keyed files", () => {
  const m = parseFlatKeyed("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
  assert.equal(m.get("oom_kill"), 3);
  assert.equal(m.size, 3);
});

test("single values: numbers, max, empty", () => {
  assert.equal(parseSingleValue("33554432\n"), 33554432);
  assert.equal(parseSingleValue("max\n"), undefined);
  assert.equal(parseSingleValue(""), undefined);
});

test("io.stat sums bytes over devices", () => {
  const text =
    "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n" +
    "253:0 rbytes=100 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n";
  assert.deepEqual(parseIoStat(text), { readBytes: 4196, writeBytes: 8192 });
  assert.deepEqual(parseIoStat(""), { readBytes: 0, writeBytes: 0 });
});

test("blkio io_service_bytes sums Read/Write and skips totals", () => {
  const text =
    "8:0 Read 4096\n8:0 Write 512\n8:0 Sync 0\n8:0 Async 4608\n8:0 Discard 0\n8:0 Total 4608\n" +
    "8:16 Read 10\n8:16 Write 20\nTotal 4638\n";
  assert.deepEqual(parseBlkioServiceBytes(text), { readBytes: 4106, writeBytes: 532 });
});

test("cpu lists, pid lists, controller lists", () => {
  assert.equal(countCpuList("0-3,8,10-11\n"), 7);
  assert.equal(countCpuList("0\n"), 1);
  assert.deepEqual(parsePidList("12\n345\n\n"), [12, 345]);
  assert.deepEqual(
    [...parseControllerList("cpuset cpu io memory pids\n")],
    ["cpuset", "cpu", "io", "memory", "pids"],
  );
  assert.equal(parseControllerList("\n").size, 0);
});
