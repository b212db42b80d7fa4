// How long the daemon's event loop stalls at 200 containers: every request (a `ps`, an attach's
// output, the agent's events) waits behind whatever runs synchronously. Measured with
// perf_hooks.monitorEventLoopDelay on an in-process container service, as the daemon builds it:
//   1. 200 running containers' stats read at 1 Hz (the dashboard's graphs), for 10 s;
//   2. a burst: 10 containers created, started (each with a bridge address: ip and nft run on
//      its start and stop), waited for and removed at once, 10 times.
//   npm run bench:daemon-loop   (builds, then runs this; results in bench/results/daemon-loop.md)
// Environment knobs: BENCH_CONTAINERS (default 200), BENCH_LABEL (a name for this run's column).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { ContainerService } from "../dist/daemon/containers.js";
import { InitPool } from "../dist/daemon/init-pool.js";
import { StatsSampler } from "../dist/daemon/stats.js";
import { VolumeStore } from "../dist/daemon/volumes.js";
import { ImageApi } from "../dist/daemon/images.js";
import { NetworkManager } from "../dist/network/manager.js";
import { deleteTable, tableName } from "../dist/network/nftables.js";
import { loadImageArchive } from "../dist/image/load.js";
import { buildTestImages, TEST_IMAGE_NAME } from "../test/fixtures/images.js";
import { log, now, REPO, treeState } from "./lib.js";

const CONTAINERS = Number(process.env.BENCH_CONTAINERS ?? 200);
const LABEL = process.env.BENCH_LABEL ?? treeState((f) => f.includes("src/"));
const RESULTS = join(REPO, "bench/results/daemon-loop.md");

interface Phase {
  what: string;
  seconds: number;
  p50: number;
  p99: number;
  max: number;
}

function phaseOf(what: string, h: IntervalHistogram, ms: number): Phase {
  const toMs = (ns: number): number => Math.round(ns / 1e4) / 100;
  return {
    what,
    seconds: Math.round(ms / 100) / 10,
    p50: toMs(h.percentile(50)),
    p99: toMs(h.percentile(99)),
    max: toMs(h.max),
  };
}

async function measure(what: string, body: () => Promise<void>): Promise<Phase> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const t0 = now();
  await body();
  h.disable();
  const phase = phaseOf(what, h, now() - t0);
  log(`${what}: p50 ${phase.p50} ms, p99 ${phase.p99} ms, max ${phase.max} ms`);
  return phase;
}

const base = mkdtempSync(join(tmpdir(), "corral-bench-loop-"));
const root = join(base, "root");
const run = join(base, "run");
mkdirSync(root, { recursive: true, mode: 0o700 });
mkdirSync(run, { recursive: true, mode: 0o700 });
const keepAlive = setInterval(() => undefined, 1 << 30);
const network = new NetworkManager(root);
const pool = new InitPool(run, 2, (w) => network.prewire(w.hostPid, w.slotId));
const images = new ImageApi(root);
const service = new ContainerService(root, pool, images, new VolumeStore(root), network);
const phases: Phase[] = [];
try {
  await service.recover();
  await network.reconcile();
  const built = await buildTestImages(join(base, "images"));
  await loadImageArchive(images.store, built.dockerArchive);
  pool.fill();

  log(`starting ${CONTAINERS} containers`);
  for (let i = 0; i < CONTAINERS; i++) {
    const r = await service.create({ image: TEST_IMAGE_NAME, cmd: ["sleep", "3600"] });
    await service.start(r.id);
  }
  await sleep(2000);
  // the daemon's `GET /v1/stats` (what the agent asks once a second)
  const sampler = new StatsSampler(service, (id) => service.cgroupOf(id).openStats());
  phases.push(
    await measure(`${CONTAINERS} containers' stats at 1 Hz, 10 s`, async () => {
      for (let s = 0; s < 10; s++) {
        const tick = now();
        await sampler.sampleAll();
        await sleep(Math.max(0, 1000 - (now() - tick)));
      }
    }),
  );
  phases.push(
    await measure(`10 × (10 containers created, started, exited, removed at once)`, async () => {
      for (let round = 0; round < 10; round++) {
        await Promise.all(
          Array.from({ length: 10 }, async () => {
            const r = await service.create({ image: TEST_IMAGE_NAME, cmd: ["true"] });
            await service.start(r.id);
            await service.wait(r.id);
            await service.remove(r.id, { force: true, volumes: true });
          }),
        );
      }
    }),
  );
} finally {
  log("cleaning up");
  for (const r of service.list(true))
    await service.remove(r.id, { force: true, volumes: true }).catch(() => undefined);
  pool.close();
  service.close();
  network.close();
  clearInterval(keepAlive);
  for (const n of network.store.bridgeNetworks())
    spawnSync("ip", ["link", "del", n.bridge], { stdio: "ignore" });
  try {
    deleteTable(tableName(root, false));
  } catch {
    // never made
  }
  rmSync(base, { recursive: true, force: true });
}

// Each run adds its rows (runs of different trees side by side: the before and after of a change).
const header = `# Daemon event-loop delay at ${CONTAINERS} containers

Written by \`npm run bench:daemon-loop\` (packages/runtime/bench/daemon-loop.ts): event-loop delay
(perf_hooks.monitorEventLoopDelay, 5 ms resolution) of an in-process container service, as the
daemon builds it, in ms. ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), shared with other work: the
load average is given per run, and on a loaded host the longest stalls are mostly the process
waiting for a CPU. A delay of ~5 ms is no stall (the histogram includes the sampling interval).

| run | phase | seconds | p50 | p99 | max |
|---|---|---|---|---|---|
`;
const previous = existsSync(RESULTS) ? readFileSync(RESULTS, "utf8") : header;
const rows = phases
  .map(
    (p) =>
      `| ${LABEL} (load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}) | ${p.what} | ${p.seconds} | ${p.p50} | ${p.p99} | ${p.max} |`,
  )
  .join("\n");
mkdirSync(join(REPO, "bench/results"), { recursive: true });
writeFileSync(
  RESULTS,
  (previous.startsWith("# Daemon") ? previous : header).trimEnd() + "\n" + rows + "\n",
);
log(`results in ${RESULTS}`);
process.exit(0);
