import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { eachSettled, matchesFilter, sortRows } from "./list-rows.ts";

test("a filter keeps the rows that hold every word, in any case and order", () => {
  const row = "busybox:latest sha256:40cbb962f199 local";
  assert.equal(matchesFilter(row, ""), true);
  assert.equal(matchesFilter(row, "   "), true);
  assert.equal(matchesFilter(row, "BusyBox"), true);
  assert.equal(matchesFilter(row, "local busy"), true);
  assert.equal(matchesFilter(row, "busybox nginx"), false);
});

test("a bulk action runs on every row, a few at a time, and a failure stops nothing", async () => {
  let running = 0;
  let most = 0;
  const answers = await eachSettled(
    ["a", "b", "c", "d", "e", "f"],
    async (name) => {
      running += 1;
      most = Math.max(most, running);
      await sleep(5);
      running -= 1;
      if (name === "b") throw new Error("b is in use by web-1");
    },
    4,
  );
  assert.equal(most, 4);
  assert.deepEqual(answers.map((a) => a.item).sort(), ["a", "b", "c", "d", "e", "f"]);
  const failed = answers.filter((a) => a.error !== undefined);
  assert.deepEqual(
    failed.map((a) => a.item),
    ["b"],
  );
  assert.match(String(failed[0]?.error), /in use by web-1/);
  assert.deepEqual(await eachSettled([], async () => undefined, 4), []);
});

test("a sorted column orders numbers as numbers and text as a reader would, ties by name", () => {
  const rows = [
    { name: "web-10", state: 4, image: "nginx" },
    { name: "web-2", state: 0, image: "Busybox" },
    { name: "db", state: 0, image: "postgres" },
    { name: "Cache", state: 10, image: "redis" },
  ];
  const name = (r: (typeof rows)[number]) => r.name;
  const names = (sorted: typeof rows) => sorted.map(name);
  // 10 after 4 (not as text), and the two of state 0 by name
  assert.deepEqual(names(sortRows(rows, (r) => r.state, true, name)), [
    "db",
    "web-2",
    "web-10",
    "Cache",
  ]);
  // descending, the ties still by name ascending
  assert.deepEqual(names(sortRows(rows, (r) => r.state, false, name)), [
    "Cache",
    "web-10",
    "db",
    "web-2",
  ]);
  // text in any case: Busybox before nginx
  assert.deepEqual(names(sortRows(rows, (r) => r.image, true, name)), [
    "web-2",
    "web-10",
    "db",
    "Cache",
  ]);
  assert.deepEqual(
    names(rows),
    ["web-10", "web-2", "db", "Cache"],
    "the list itself is not sorted",
  );
});
