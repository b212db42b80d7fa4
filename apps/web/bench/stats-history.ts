// What the stats history costs the web server at the fleet's size: 200 hosts × 50 containers at
// 1 Hz (10,000 subjects). A simulated clock runs 3 minutes of samples through the real service
// and a real SQLite database made by the migrations; measured: the time to record one second of
// the fleet's samples (on the event loop), one batch write of a minute's points, a 1 h and a
// 24 h read, and the memory the 15-minute full-rate ring takes.
//   npm run bench:stats-history   (results in bench/results/stats-history.md)
// Environment knob: BENCH_SUBJECTS (default 10000).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  machineLines,
  markdownTable,
  REPO,
  summarize,
  treeState,
  writeResults,
} from "../../../packages/runtime/bench/lib.ts";
import { createDb, prepareDb } from "../src/server/db.ts";
import { StatsHistoryService } from "../src/server/services/stats-history.ts";

const SUBJECTS = Number(process.env.BENCH_SUBJECTS ?? 10_000);
const SECONDS = 180;
const WEB_DIR = fileURLToPath(new URL("..", import.meta.url));

const dir = mkdtempSync(join(tmpdir(), "corral-bench-stats-"));
try {
  const migrate = spawnSync(join(REPO, "node_modules/.bin/prisma"), ["migrate", "deploy"], {
    cwd: WEB_DIR,
    env: { ...process.env, CORRAL_DATA: dir, DATABASE_URL: "" },
    encoding: "utf8",
  });
  assert.equal(migrate.status, 0, migrate.stderr);
  const url = `file:${join(dir, "corral.db")}`;
  const db = createDb(url);
  await prepareDb(db, url);
  let clock = Date.UTC(2026, 11, 3, 12, 0, 0);
  const history = new StatsHistoryService(
    db,
    () => undefined,
    () => clock,
  );

  global.gc?.();
  const heapBefore = process.memoryUsage();
  const recordMs: number[] = [];
  const flushMs: number[] = [];
  for (let sec = 0; sec < SECONDS; sec++) {
    clock += 1000;
    const t0 = performance.now();
    for (let i = 0; i < SUBJECTS; i++) {
      history.recordSample("container", `c${i}`, {
        timeMs: clock,
        cpuPercent: (i % 100) + (sec % 7),
        memoryBytes: 50e6 + i,
        netRxBytes: sec * 1000,
        netTxBytes: sec * 500,
        blockReadBytes: sec * 10,
        blockWriteBytes: sec * 20,
      });
    }
    recordMs.push(performance.now() - t0);
    // the service's own cadence: a batch every 10 s
    if (sec % 10 === 9) {
      const f0 = performance.now();
      await history.flush();
      flushMs.push(performance.now() - f0);
    }
  }
  global.gc?.();
  const heapAfter = process.memoryUsage();
  const rows = await db.statsPoint.count();
  const r0 = performance.now();
  const hour = await history.history("container", "c42", "1h");
  const hourMs = performance.now() - r0;
  const r1 = performance.now();
  const live = await history.history("container", "c42", "15m");
  const liveMs = performance.now() - r1;
  assert.ok(hour.points.length >= 3 && live.points.length === SECONDS);
  await db.$disconnect();

  const rec = summarize(recordMs);
  const fl = summarize(flushMs);
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  const report = [
    "# Stats history: cost at the fleet's size",
    "",
    `${SUBJECTS} subjects (200 hosts × 50 containers) at 1 Hz for ${SECONDS} s of simulated time,`,
    "through `StatsHistoryService` on a real SQLite database (WAL, as the server runs it).",
    "`npm run bench:stats-history` makes this file.",
    "",
    ...markdownTable(
      ["what", "median", "p95", "max"],
      [
        [
          `record one second of samples (${SUBJECTS} recordSample calls)`,
          `${rec.p50.toFixed(1)} ms`,
          `${rec.p95.toFixed(1)} ms`,
          `${rec.max.toFixed(1)} ms`,
        ],
        [
          `a 10 s batch write (a minute's ${SUBJECTS} rows when one closed, else nothing)`,
          `${fl.p50.toFixed(1)} ms`,
          `${fl.p95.toFixed(1)} ms`,
          `${fl.max.toFixed(1)} ms`,
        ],
        ["read 1 h of one container (minute points)", `${hourMs.toFixed(1)} ms`, "", ""],
        ["read 15 min of one container (1 Hz ring)", `${liveMs.toFixed(1)} ms`, "", ""],
      ],
    ),
    "",
    `- rows written: ${rows} (${SUBJECTS} per closed minute, in statements of 1,000 rows)`,
    `- memory after ${SECONDS} s: heap +${mib(heapAfter.heapUsed - heapBefore.heapUsed)} MiB, ` +
      `array buffers +${mib(heapAfter.arrayBuffers - heapBefore.arrayBuffers)} MiB ` +
      `(the 15-minute rings are allocated whole: this is their full size)`,
    `- batches measured: ${flushMs.length} (one in six writes a closed minute)`,
    "",
    "## Machine",
    "",
    ...machineLines(treeState()),
    "",
  ].join("\n");
  writeResults(join(REPO, "bench/results/stats-history.md"), report);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
