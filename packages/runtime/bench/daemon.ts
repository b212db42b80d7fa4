// Corral daemon benchmark: what container logs cost corral-rtd (issue 11's goals).
//
//   npm run bench:daemon            (builds, then runs this with `node --import tsx`)
//
// Needs root, umoci and skopeo (for the busybox test image). Runs a private daemon (its own
// state root under the system's temp dir) and writes bench/results/daemon.md at the repository
// root. Goals: a 1M-line log adds < 20 MB to the daemon's RSS; 8 concurrent `logs -t` of it
// < 50 MB; `logs --tail 10 -t` of a 20M-line log in < 1 s; chatty containers (100 lines/s
// each) cost the daemon < 10% of a core. Environment knobs: BENCH_CHATTY (containers, default
// 200; fewer on a machine that cannot hold them, and the report says so), BENCH_CHATTY_SECONDS (30),
// BENCH_BIG_LINES (20000000).
import { statSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CLI, startRuntime, type TestRuntime } from "../test/fixtures/runtime.js";
import { TEST_IMAGE_NAME } from "../test/fixtures/images.js";
import {
  CLK_TCK,
  cpuTicks,
  log,
  machineLines,
  markdownTable,
  must,
  now,
  readOr,
  REPO,
  statusKb,
  summarize,
  timeProcess,
  treeState,
  writeResults,
} from "./lib.js";

const CHATTY = Number(process.env.BENCH_CHATTY ?? 200);
const CHATTY_SECONDS = Number(process.env.BENCH_CHATTY_SECONDS ?? 30);
const BIG_LINES = Number(process.env.BENCH_BIG_LINES ?? 20_000_000);
const RESULTS = join(REPO, "bench/results/daemon.md");

const mb = (kb: number): string => (kb / 1024).toFixed(1);
const ms = (v: number): string => v.toFixed(v < 10 ? 2 : 1);

/** Resets the daemon's peak RSS (VmHWM), so that the next reading is the peak of what follows. */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

/** Reads a whole log over the daemon's socket as fast as it comes; resolves with its size. */
function readLogs(rt: TestRuntime, id: string, query: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      socketPath: join(rt.base, "run", "rtd.sock"),
      path: `/v1/containers/${id}/logs?${query}`,
    });
    req.on("response", (res) => {
      let bytes = 0;
      res.on("data", (d: Buffer) => (bytes += d.length));
      res.on("end", () => resolve(bytes));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

function run(rt: TestRuntime, ...args: string[]): string {
  const r = rt.rt(...args);
  if (r.code !== 0) throw new Error(`corral-rt ${args.join(" ")}: ${r.err.trim()}`);
  return r.out.trim();
}

async function main(): Promise<void> {
  const tree = treeState((f) => f.startsWith("src/daemon/log") || f.startsWith("bench/"));
  log("starting a private runtime");
  const rt = await startRuntime("bench-daemon");
  const rows: string[][] = [];
  const notes: string[] = [];
  try {
    // Warm the daemon up (modules, pool, network) so that what follows is the log's cost.
    run(rt, "run", "--rm", TEST_IMAGE_NAME, "true");
    const pid = rt.daemonPid();
    await sleep(2000);

    // -- a 1M-line log
    const rssBefore = statusKb(pid, "VmRSS");
    resetPeak(pid);
    const id = run(rt, "run", "-d", TEST_IMAGE_NAME, "seq", "1000000");
    run(rt, "wait", id);
    await sleep(1000);
    const [info] = JSON.parse(run(rt, "inspect", id)) as [{ LogPath: string }];
    const logBytes = statSync(info.LogPath).size;
    const indexBytes = statSync(`${info.LogPath}.idx`).size;
    rows.push(
      ["log of `seq 1000000`", `${(logBytes / 1e6).toFixed(1)} MB`, ""],
      ["its time index (console.log.idx)", `${indexBytes} bytes`, "was 32.8 MB (4.8× the log)"],
      [
        "daemon RSS added by it (VmRSS after − before)",
        `${mb(statusKb(pid, "VmRSS") - rssBefore)} MB`,
        "goal < 20 MB; was ~125 MB",
      ],
      [
        "daemon peak RSS while it was written, over the RSS before",
        `${mb(statusKb(pid, "VmHWM") - rssBefore)} MB`,
        "",
      ],
    );

    // -- 8 concurrent `logs -t` of it
    const rssReaders = statusKb(pid, "VmRSS");
    resetPeak(pid);
    const t0 = now();
    const sizes = await Promise.all(
      Array.from({ length: 8 }, () => readLogs(rt, id, "timestamps=1&tail=-1")),
    );
    const readersMs = now() - t0;
    rows.push(
      [
        "8 concurrent `logs -t` of it: daemon peak RSS over the RSS before",
        `${mb(statusKb(pid, "VmHWM") - rssReaders)} MB`,
        "goal < 50 MB; was 1.41 GB in all",
      ],
      [
        "8 concurrent `logs -t` of it: all done in",
        `${ms(readersMs)} ms (${(sizes.reduce((a, b) => a + b, 0) / 1e6).toFixed(0)} MB sent)`,
        "",
      ],
      [
        "daemon RSS after they ended, over the RSS before",
        `${mb(statusKb(pid, "VmRSS") - rssReaders)} MB`,
        "was ~160 MB each, held after the container was removed",
      ],
    );
    run(rt, "rm", id);

    // -- `logs --tail 10 -t` of a big log
    log(`writing a ${BIG_LINES}-line log`);
    const big = run(rt, "run", "-d", TEST_IMAGE_NAME, "seq", String(BIG_LINES));
    run(rt, "wait", big);
    const [bigInfo] = JSON.parse(run(rt, "inspect", big)) as [{ LogPath: string }];
    const tails: number[] = [];
    for (let i = 0; i < 10; i++)
      tails.push(
        must(
          await timeProcess(process.execPath, [CLI, "logs", "--tail", "10", "-t", big], rt.env),
          "logs --tail",
        ),
      );
    const api: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = now();
      await readLogs(rt, big, "timestamps=1&tail=10");
      api.push(now() - t);
    }
    const cli = summarize(tails);
    const direct = summarize(api);
    rows.push(
      [
        `\`logs --tail 10 -t\` of a ${(BIG_LINES / 1e6).toFixed(0)}M-line log (${(statSync(bigInfo.LogPath).size / 1e6).toFixed(0)} MB), CLI spawn to exit, p50 / max of 10`,
        `${ms(cli.p50)} / ${ms(cli.max)} ms`,
        "goal < 1 s",
      ],
      [
        "the same request over the daemon's socket (no Node start-up), p50 / max of 10",
        `${ms(direct.p50)} / ${ms(direct.max)} ms`,
        "",
      ],
    );
    run(rt, "rm", big);

    // -- chatty containers
    // 10 lines every 100 ms with shell builtins only (read -t times out on a pipe that never
    // writes), so that the containers' own forks do not drown the measurement.
    log(`starting ${CHATTY} containers printing 100 lines/s`);
    const script =
      "sleep 100000 | { i=0; while :; do for j in 0 1 2 3 4 5 6 7 8 9; do echo line $i; i=$((i+1)); done; read -t 0.1 x; done; }";
    const chatty: string[] = [];
    for (let i = 0; i < CHATTY; i++)
      chatty.push(run(rt, "run", "-d", TEST_IMAGE_NAME, "sh", "-c", script));
    await sleep(3000);
    const lastLine = (c: string): number =>
      Number(/line (\d+)/.exec(run(rt, "logs", "--tail", "1", c))?.[1] ?? 0);
    const lines0 = chatty.map(lastLine);
    const c0 = cpuTicks(pid);
    const w0 = now();
    await sleep(CHATTY_SECONDS * 1000);
    const c1 = cpuTicks(pid);
    const elapsed = (now() - w0) / 1000;
    const lines1 = chatty.map(lastLine);
    const rate =
      lines1.reduce((a, b, i) => a + (b - (lines0[i] ?? 0)), 0) / CHATTY / (elapsed + 0.5);
    rows.push([
      `daemon CPU with ${CHATTY} containers each printing ~${rate.toFixed(0)} lines/s, over ${CHATTY_SECONDS} s`,
      `${(((c1 - c0) / CLK_TCK / elapsed) * 100).toFixed(1)}% of a core`,
      "goal < 10% at 200 containers",
    ]);
    if (CHATTY < 200)
      notes.push(
        `${CHATTY} chatty containers, not 200 (BENCH_CHATTY). The daemon's cost grows with the number of logs written (one throttled scan per log per 100 ms at most), so 200 would cost about ${((200 / CHATTY) * (((c1 - c0) / CLK_TCK / elapsed) * 100)).toFixed(1)}% by the same measure.`,
      );
    for (const c of chatty) rt.rt("rm", "-f", c);
  } finally {
    rt.cleanup();
  }

  const report = [
    "# Corral daemon benchmark: container logs",
    "",
    `Written by \`npm run bench:daemon\` (packages/runtime/bench/daemon.ts) on ${new Date().toISOString()}.`,
    "",
    "## Machine and tree",
    "",
    ...machineLines(tree),
    `- load average when written: ${readOr("/proc/loadavg").split(" ").slice(0, 3).join(" ")}`,
    "",
    "## Results",
    "",
    ...markdownTable(["what", "measured", "goal / before"], rows),
    "",
    ...notes.map((n) => `- ${n}`),
    "",
  ].join("\n");
  writeResults(RESULTS, report);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
