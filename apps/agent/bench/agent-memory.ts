// Corral agent memory benchmark: is the agent's memory bounded over an hour of churn (issue 12)?
//
//   npm run bench:agent-memory      (builds, then runs this with `node --import tsx`)
//
// Needs root, umoci and skopeo (for the busybox test image). The churn of the agent's memory
// test (test/fixtures/churn.ts: a container created, started, its 1 Hz stats received, its log
// followed and closed, exec'd into, stopped and removed), one cycle after another with a
// BENCH_PAUSE_MS (1000) pause, for BENCH_MINUTES (60), while a long-running container's stats
// flow too. The agent's RSS (VmRSS) is read after every cycle. Goal: the peak RSS of the last
// BENCH_WINDOW_MINUTES (10) within 10% of the peak after the warm-up (the first
// BENCH_WARMUP_MINUTES, 5; the peak of its second half). Writes bench/results/agent-memory.md.
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  log,
  machineLines,
  markdownTable,
  readOr,
  REPO,
  statusKb,
  treeState,
  writeResults,
} from "../../../packages/runtime/bench/lib.ts";
import { startChurnRig } from "../test/fixtures/churn.ts";

const MINUTES = Number(process.env.BENCH_MINUTES ?? 60);
const WARMUP_MINUTES = Number(process.env.BENCH_WARMUP_MINUTES ?? 5);
const WINDOW_MINUTES = Number(process.env.BENCH_WINDOW_MINUTES ?? 10);
const PAUSE_MS = Number(process.env.BENCH_PAUSE_MS ?? 1000);
const RESULTS = join(REPO, "bench/results/agent-memory.md");

const mb = (kb: number): string => (kb / 1024).toFixed(1);

interface Reading {
  minute: number;
  rssKb: number;
}

async function main(): Promise<void> {
  const tree = treeState();
  const loadBefore = readOr("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  log("starting a private runtime, the web double and the agent");
  const rig = await startChurnRig("bench-agent-mem");
  const readings: Reading[] = [];
  const loads: string[] = [];
  let cycles = 0;
  let daemonRssKb = 0;
  try {
    const t0 = Date.now();
    const minute = (): number => (Date.now() - t0) / 60_000;
    let lastLog = 0;
    while (minute() < MINUTES) {
      await rig.cycle();
      cycles++;
      readings.push({ minute: minute(), rssKb: rig.rssKiB() });
      if (minute() - lastLog >= 5) {
        lastLog = Math.floor(minute());
        loads.push(`${lastLog} min: ${readOr("/proc/loadavg").split(" ").slice(0, 3).join(" ")}`);
        log(`${lastLog} min, ${cycles} cycles, agent RSS ${mb(readings.at(-1)!.rssKb)} MB`);
      }
      await sleep(PAUSE_MS);
    }
    daemonRssKb = statusKb(rig.runtime.daemonPid(), "VmRSS");
  } finally {
    log("cleaning up");
    rig.cleanup();
  }

  const peak = (from: number, to: number): number =>
    Math.max(...readings.filter((r) => r.minute >= from && r.minute < to).map((r) => r.rssKb));
  const warm = peak(WARMUP_MINUTES / 2, WARMUP_MINUTES);
  const end = peak(MINUTES - WINDOW_MINUTES, Infinity);
  const growth = (end / warm - 1) * 100;
  const rows: string[][] = [];
  for (let m = 0; m < MINUTES; m += 5) {
    const window = readings.filter((r) => r.minute >= m && r.minute < m + 5);
    if (window.length === 0) continue;
    const values = window.map((r) => r.rssKb);
    rows.push([
      `${m}–${m + 5} min`,
      String(window.length),
      `${mb(Math.min(...values))} / ${mb(Math.max(...values))}`,
    ]);
  }
  const report = [
    "# Corral agent memory benchmark: an hour of churn",
    "",
    `Written by \`npm run bench:agent-memory\` (apps/agent/bench/agent-memory.ts) on ${new Date().toISOString()}.`,
    "",
    "## Machine and tree",
    "",
    ...machineLines(tree),
    `- load average before the run: ${loadBefore}; during it: ${loads.join("; ")} (the machine is shared with other engineers' work)`,
    "",
    "## Result",
    "",
    `Churn for ${MINUTES} min, ${cycles} cycles (one every ${((MINUTES * 60) / cycles).toFixed(1)} s): each`,
    "creates and starts a container through the agent, waits for its 1 Hz stats at the web,",
    "follows its log and closes that stream, execs into it, stops and removes it; a long-running",
    "container's stats flow all along. RSS is the agent's VmRSS read after every cycle.",
    "",
    ...markdownTable(
      ["what", "measured", "goal"],
      [
        [
          `agent RSS peak after the warm-up (${WARMUP_MINUTES / 2}–${WARMUP_MINUTES} min)`,
          `${mb(warm)} MB`,
          "",
        ],
        [
          `agent RSS peak over the last ${WINDOW_MINUTES} min`,
          `${mb(end)} MB (${growth >= 0 ? "+" : ""}${growth.toFixed(1)}%)`,
          "within 10% of the warm-up's",
        ],
        ["runtime daemon RSS at the end", `${mb(daemonRssKb)} MB`, ""],
      ],
    ),
    "",
    "Agent RSS (min / max, MB) per five minutes:",
    "",
    ...markdownTable(["window", "cycles", "RSS min / max"], rows),
    "",
    growth <= 10 ? "- Met: the peak stays within 10%." : "- Not met: the peak grew more than 10%.",
    "",
  ].join("\n");
  writeResults(RESULTS, report);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
