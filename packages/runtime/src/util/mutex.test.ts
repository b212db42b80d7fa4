import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Mutex } from "./mutex.js";

test("critical sections run one at a time, in call order, past failures", async () => {
  const mutex = new Mutex();
  const log: string[] = [];
  const section = (name: string, ms: number, fail = false) =>
    mutex.run(async () => {
      log.push(`${name}+`);
      await sleep(ms);
      log.push(`${name}-`);
      if (fail) throw new Error(name);
      return name;
    });
  const results = await Promise.allSettled([
    section("a", 20),
    section("b", 1, true),
    section("c", 1),
  ]);
  assert.deepEqual(log, ["a+", "a-", "b+", "b-", "c+", "c-"]);
  assert.deepEqual(
    results.map((r) => r.status),
    ["fulfilled", "rejected", "fulfilled"],
  );
});
