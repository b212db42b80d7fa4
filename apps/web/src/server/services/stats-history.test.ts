// StatsHistoryService against a real SQLite database made by the committed migrations: minutes
// reach the database in batches, reads merge stored, unwritten and open minutes, old points go.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createTestDatabase, type TestDatabase } from "../../../test/fixtures/database.ts";
import { createDb, type Db } from "../db.ts";
import { StatsHistoryService } from "./stats-history.ts";

let database: TestDatabase;
let db: Db;

// SQLite, or PostgreSQL with CORRAL_TEST_DATABASE=postgresql (the batch INSERT is raw SQL).
before(async () => {
  database = await createTestDatabase("stats-history");
  db = createDb(database.url);
});
after(async () => {
  await db?.$disconnect();
  database?.cleanup();
});

test("1 Hz samples of many subjects become minute rows, written in batches, read back merged", async () => {
  let now = Date.UTC(2026, 11, 3, 10, 0, 0) - 1000;
  const h = new StatsHistoryService(
    db,
    () => undefined,
    () => now,
  );
  const subjects = 600; // more than one INSERT's worth of rows per minute
  for (let sec = 0; sec <= 120; sec++) {
    now += 1000;
    for (let i = 0; i < subjects; i++) {
      h.recordSample("container", `c${i}`, {
        timeMs: now,
        cpuPercent: sec < 60 ? 10 : 30,
        memoryBytes: 1e6 + sec,
        netRxBytes: sec * 100,
      });
    }
  }
  h.recordSample("host", "h1", { timeMs: now, cpuPercent: 5, memoryBytes: 1 });
  assert.equal(await db.statsPoint.count(), 0, "nothing written before a flush");
  await h.flush();
  // minutes 10:00 and 10:01 are closed for each container; 10:02 is open
  assert.equal(await db.statsPoint.count({ where: { kind: "container" } }), subjects * 2);

  const view = await h.history("container", "c7", "1h");
  assert.equal(view.resolutionSeconds, 60);
  assert.equal(view.points.length, 3, "two stored minutes and the open one");
  assert.equal(view.points[0]?.cpu, 10);
  assert.equal(view.points[1]?.cpu, 30);
  assert.equal(view.points[1]?.netRx, 100);
  assert.ok(view.points.every((p, i, a) => i === 0 || p.t > (a[i - 1]?.t ?? 0)));

  const live = await h.history("container", "c7", "15m");
  assert.equal(live.resolutionSeconds, 1);
  assert.equal(live.points.length, 121);
  assert.equal(live.points.at(-1)?.cpu, 30);

  // subjects stay apart: the host's one sample is its own
  assert.equal((await h.history("host", "h1", "15m")).points.length, 1);
  assert.deepEqual((await h.history("container", "nobody", "24h")).points, []);

  // a day later: the old minutes are pruned, the quiet subjects' open minutes were written
  await h.close();
  now += 25 * 3600 * 1000;
  assert.ok((await h.prune()) >= subjects * 3);
  assert.equal(await db.statsPoint.count(), 0);
});
