// Corral runtime benchmark: container start latency against runc, side by side in one process
// and one run, and the idle cost of a daemon with many containers.
//
//   npm run bench:runtime            (builds, then runs this with `node --import tsx`)
//
// Needs root, runc, umoci and skopeo. Writes bench/results/runtime.md at the repository root.
// Every kind of start is sampled round-robin (the order rotating each round) so that noise on
// the machine hits all kinds alike; before each sample both init pools are refilled and the
// CPUs are let to settle, which is the steady state of a host that starts a container now and
// then. Environment knobs: BENCH_RUNS (default 50), BENCH_WARMUP (3), BENCH_IDLE (200),
// BENCH_IDLE_SECONDS (30), BENCH_POOL_SIZE (2, the daemon's default).
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  readdirSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { ContainerService } from "../dist/daemon/containers.js";
import { InitPool, type WarmInit } from "../dist/daemon/init-pool.js";
import { VolumeStore } from "../dist/daemon/volumes.js";
import { ImageApi } from "../dist/daemon/images.js";
import { NetworkManager } from "../dist/network/manager.js";
import { deleteTable, tableName } from "../dist/network/nftables.js";
import { loadImageArchive } from "../dist/image/load.js";
import { RuntimeClient } from "../dist/client/client.js";
import { cgroupParent } from "../dist/paths.js";
import { V1CgroupManager, V2CgroupManager } from "../dist/cgroups/index.js";
import type { InitSpec } from "../dist/container/init-spec.js";
import type { ContainerRecord } from "../dist/container/record.js";
import { buildTestImages, TEST_IMAGE_NAME } from "../test/fixtures/images.js";
import {
  CLK_TCK,
  cpuTicks,
  log,
  must,
  now,
  readOr,
  REPO,
  statFields,
  statusKb,
  summarize,
  timeProcess,
  treeState,
} from "./lib.js";

// ---- settings ----------------------------------------------------------------------------

const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const IDLE_CONTAINERS = Number(process.env.BENCH_IDLE ?? 200);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);
const POOL_SIZE = Number(process.env.BENCH_POOL_SIZE ?? 2);
const PROBES = 10;
const BURST = 8;

const PKG = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(PKG, "dist/cli/main.js");
const DAEMON = join(PKG, "dist/daemon/main.js");
const RESULTS = join(REPO, "bench/results/runtime.md");

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : "n/a");
const mb = (kb: number): string => (kb / 1024).toFixed(1);

// ---- /proc ---------------------------------------------------------------------------------

const pidAlive = (pid: number): boolean => existsSync(`/proc/${pid}`);
const ppidOf = (pid: number): number => Number(statFields(pid)?.[1] ?? 0);
const startTimeOf = (pid: number): string | undefined => statFields(pid)?.[19];

function rollupKb(pid: number, key: string): number | undefined {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(readOr(`/proc/${pid}/smaps_rollup`));
  return m ? Number(m[1]) : undefined;
}

function allPids(): number[] {
  return readdirSync("/proc")
    .filter((d) => /^[0-9]+$/.test(d))
    .map(Number);
}

/** Pids whose environment holds CORRAL_SLOT under `runDir`: shims, unshares, unclaimed inits. */
function slotProcesses(runDir: string): number[] {
  const needle = `CORRAL_SLOT=${join(runDir, "slots")}/`;
  return allPids().filter((pid) => readOr(`/proc/${pid}/environ`).includes(needle));
}

/** Warm inits of a daemon's pool: node init.js processes blocked reading their spec. */
function readyDaemonInits(runDir: string): number {
  let ready = 0;
  for (const pid of slotProcesses(runDir)) {
    if (!readOr(`/proc/${pid}/cmdline`).includes("container/init.js")) continue;
    if (readOr(`/proc/${pid}/comm`).trim() === "unshare") continue;
    if (/read/.test(readOr(`/proc/${pid}/wchan`))) ready++;
  }
  return ready;
}

/** Fraction of all CPUs busy over `windowMs`. */
async function busyFraction(windowMs: number): Promise<number> {
  const sample = (): [number, number] => {
    const v = (readOr("/proc/stat").split("\n")[0] ?? "").split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return [total, (v[3] ?? 0) + (v[4] ?? 0)];
  };
  const [t0, i0] = sample();
  await sleep(windowMs);
  const [t1, i1] = sample();
  return t1 === t0 ? 0 : 1 - (i1 - i0) / (t1 - t0);
}

// ---- cleanup, whatever happens -------------------------------------------------------------

const cleanups: { name: string; fn: () => Promise<void> | void }[] = [];
let cleaning: Promise<string[]> | undefined;

function onCleanup(name: string, fn: () => Promise<void> | void): void {
  cleanups.push({ name, fn });
}

/** Runs every cleanup (last registered first); returns the problems it met. */
function cleanup(): Promise<string[]> {
  cleaning ??= (async () => {
    const problems: string[] = [];
    for (const c of cleanups.reverse()) {
      try {
        await c.fn();
      } catch (err) {
        problems.push(`${c.name}: ${(err as Error).message}`);
      }
    }
    return problems;
  })();
  return cleaning;
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().then((problems) => {
      for (const p of problems) log(`cleanup: ${p}`);
      process.exit(130);
    });
  });
}

// ---- the benchmark -------------------------------------------------------------------------

const cgroupMounts = (): string[] =>
  readdirSync("/sys/fs/cgroup")
    .map((d) => join("/sys/fs/cgroup", d))
    .filter((d) => existsSync(join(d, "cgroup.procs")));

/** Kills what is left in the cgroup `rel` (ours only) and removes it from every hierarchy. */
function removeCgroup(rel: string): boolean {
  let left = false;
  for (const mount of cgroupMounts()) {
    const dir = join(mount, rel);
    if (!existsSync(dir)) continue;
    for (const pid of readOr(join(dir, "cgroup.procs")).split("\n").filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // gone
      }
    }
    for (let i = 0; i < 50 && existsSync(dir); i++) {
      try {
        rmdirSync(dir);
      } catch {
        execFileSync("sleep", ["0.02"]);
      }
    }
    if (existsSync(dir)) left = true;
  }
  return left;
}

interface StepTimes {
  [step: string]: number[];
}

interface Results {
  runc: number[];
  libStart: number[];
  libStartWarm: boolean[];
  libCreate: number[];
  libCreateToExited: number[];
  cli: number[];
  api: number[];
  nodeFloor: number[];
  cliHelp: number[];
  steps: StepTimes;
  burst: { ms: number; warm: boolean }[];
  probeBare: number[];
  probeEarly: number[];
  probeSetup: number[];
  quiesceTimeouts: number;
  failures: string[];
  poolTimeouts: number;
  idle?: IdleResults;
  leftovers: string[];
}

interface IdleResults {
  containers: number;
  startMs: number[];
  totalStartSeconds: number;
  daemonRssBeforeKb: number;
  daemonRssKb: number;
  daemonRssAfterIdleKb: number;
  daemonPssKb: number | undefined;
  daemonCpuPercent: number;
  idleSeconds: number;
  shimsCpuTicks: number;
  perContainer: {
    dashRssKb: number;
    unshareRssKb: number;
    dashPssKb: number | undefined;
    unsharePssKb: number | undefined;
    containerRssKb: number;
  };
  poolInits: { count: number; rssKb: number; pssKb: number | undefined };
}

function emptyResults(): Results {
  return {
    runc: [],
    libStart: [],
    libStartWarm: [],
    libCreate: [],
    libCreateToExited: [],
    cli: [],
    api: [],
    nodeFloor: [],
    cliHelp: [],
    steps: {},
    burst: [],
    probeBare: [],
    probeEarly: [],
    probeSetup: [],
    quiesceTimeouts: 0,
    failures: [],
    poolTimeouts: 0,
    leftovers: [],
  };
}

const results = emptyResults();

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("run the benchmark as root");
  for (const f of [CLI, DAEMON]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first`);
  }

  const base = mkdtempSync(join(tmpdir(), "corral-bench-"));
  onCleanup("remove temp dirs", () => {
    const daemonLog = readOr(join(base, "rtd.log"))
      .split("\n")
      .filter((l) => /could not|error|fail/i.test(l));
    if (daemonLog.length) results.leftovers.push(`daemon log: ${daemonLog.slice(-5).join(" / ")}`);
    const mounts = readOr("/proc/self/mountinfo")
      .split("\n")
      .filter((l) => l.includes(base));
    if (mounts.length) {
      results.leftovers.push(`${mounts.length} mounts under ${base}; not removed`);
      return;
    }
    // Each state root has its own bridge and table (named from the root): remove them with it.
    for (const file of execFileSync(
      "find",
      [base, "-name", "bridge.json", "-path", "*/network/*"],
      {
        encoding: "utf8",
      },
    )
      .split("\n")
      .filter(Boolean)) {
      const { bridge } = JSON.parse(readOr(file) || "{}") as { bridge?: string };
      if (bridge) spawnSync("ip", ["link", "del", bridge]);
      // ... and its nftables table (<root>/network/bridge.json: the root is two levels up).
      try {
        deleteTable(tableName(dirname(dirname(file)), false));
      } catch (err) {
        results.leftovers.push(`nftables table of ${dirname(dirname(file))}: ${String(err)}`);
      }
    }
    rmSync(base, { recursive: true, force: true });
  });
  const ownCgroups = new Set<string>();
  onCleanup("remove cgroups", () => {
    for (const rel of ownCgroups) if (removeCgroup(rel)) results.leftovers.push(`cgroup ${rel}`);
  });
  log(`working in ${base}`);

  // -- images and the runc bundle
  const images = await buildTestImages(join(base, "images"));
  const bundle = join(base, "bundle");
  execFileSync("umoci", ["unpack", "--image", `${images.layoutDir}:latest`, bundle]);
  const configPath = join(bundle, "config.json");
  const config = JSON.parse(readFileSync(configPath, "utf8")) as {
    process: { args: string[]; terminal: boolean };
    linux: { namespaces: { type: string }[] };
  };
  config.process.args = ["/bin/true"];
  config.process.terminal = false;
  // Corral gives every container its own cgroup namespace too; umoci's default lacks one.
  if (!config.linux.namespaces.some((n) => n.type === "cgroup"))
    config.linux.namespaces.push({ type: "cgroup" });
  writeFileSync(configPath, JSON.stringify(config));
  const runcRoot = join(base, "runc-state");
  onCleanup("runc containers", () => {
    if (!existsSync(runcRoot)) return;
    const ids = execFileSync("runc", ["--root", runcRoot, "list", "-q"], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
    for (const id of ids) execFileSync("runc", ["--root", runcRoot, "delete", "-f", id]);
  });

  // -- the library: an in-process ContainerService, as the daemon builds it
  const keepAlive = setInterval(() => undefined, 1 << 30); // nothing else holds the loop
  onCleanup("keep-alive timer", () => clearInterval(keepAlive));
  const libRoot = join(base, "lib/root");
  const libRun = join(base, "lib/run");
  mkdirSync(libRoot, { recursive: true, mode: 0o700 });
  mkdirSync(libRun, { recursive: true, mode: 0o700 });
  const network = new NetworkManager(libRoot);
  const pool = new InitPool(libRun, POOL_SIZE, (w) => network.prewire(w.hostPid, w.slotId));
  const volumes = new VolumeStore(libRoot);
  const imageApi = new ImageApi(libRoot);
  const service = new ContainerService(libRoot, pool, imageApi, volumes, network);
  const libIds = new Set<string>();
  onCleanup("library containers and pool", async () => {
    for (const r of service.list(true)) {
      await service.remove(r.id, { force: true, volumes: true }).catch(() => undefined);
    }
    pool.close();
    service.close();
    await sleep(200);
    for (const pid of slotProcesses(libRun)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  });
  await service.recover();
  await loadImageArchive(imageApi.store, images.dockerArchive);
  pool.fill();
  const poolState = pool as unknown as { ready: WarmInit[]; starting: number };
  const libPoolFull = (): boolean =>
    poolState.ready.length >= POOL_SIZE && poolState.starting === 0;

  // Step timings of ContainerService.start, by wrapping what it calls (no change to src/).
  let inStart = false;
  const record = (step: string, t: number): void => {
    if (inStart) (results.steps[step] ??= []).push(t);
  };
  const wrapAsync = (target: object, name: string, step: string): void => {
    const obj = target as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const original = obj[name] as (...args: unknown[]) => Promise<unknown>;
    obj[name] = async function (this: unknown, ...args: unknown[]) {
      const t0 = now();
      try {
        return await original.apply(this, args);
      } finally {
        record(step, now() - t0);
      }
    };
  };
  for (const proto of [V1CgroupManager.prototype, V2CgroupManager.prototype]) {
    wrapAsync(proto, "create", "cgroup create (mkdir, device rules, limits)");
    wrapAsync(proto, "addProcess", "cgroup addProcess (cgroup.procs in each hierarchy)");
  }
  const wrapSync = (target: object, name: string, step: string): void => {
    const obj = target as Record<string, (...args: unknown[]) => unknown>;
    const original = obj[name] as (...args: unknown[]) => unknown;
    obj[name] = function (this: unknown, ...args: unknown[]) {
      const t0 = now();
      try {
        return original.apply(this, args);
      } finally {
        record(step, now() - t0);
      }
    };
  };
  wrapSync(service, "initSpec", "init spec (layer check, spec object)");
  const records = (service as unknown as { records: { save(r: ContainerRecord): void } }).records;
  const save = records.save.bind(records);
  records.save = (r: ContainerRecord): void => {
    const t0 = now();
    save(r);
    if (r.state.status === "running") record("state save (write + 2 fsync + rename)", now() - t0);
  };
  const take = pool.take.bind(pool);
  pool.take = async (): Promise<WarmInit> => {
    const t0 = now();
    const warm = await take();
    record("pool take", now() - t0);
    const launch = warm.launch.bind(warm);
    warm.launch = async (...args: Parameters<WarmInit["launch"]>): Promise<void> => {
      const t1 = now();
      try {
        await launch(...args);
      } finally {
        record("launch: spec to init -> 'exec' status (rootfs, pivot, creds)", now() - t1);
      }
    };
    return warm;
  };

  // -- the real daemon, for the CLI and the idle test
  const rtRoot = join(base, "rtd/root");
  const rtRun = join(base, "rtd/run");
  mkdirSync(rtRun, { recursive: true, mode: 0o700 });
  const rtEnv = { ...process.env, CORRAL_ROOT: rtRoot, CORRAL_RUN: rtRun };
  const client = new RuntimeClient({ root: rtRoot, run: rtRun, socket: join(rtRun, "rtd.sock") });
  const logFd = openSync(join(base, "rtd.log"), "a", 0o600);
  const daemon = spawn(process.execPath, [DAEMON], {
    detached: true, // a ^C of the benchmark reaches only the benchmark, which cleans up
    stdio: ["ignore", logFd, logFd],
    env: { ...rtEnv, CORRAL_POOL_SIZE: String(POOL_SIZE) },
  });
  closeSync(logFd);
  const daemonPid = daemon.pid ?? 0;
  let daemonExited = false;
  daemon.on("exit", () => (daemonExited = true));
  const rtdIds = new Set<string>();
  onCleanup("daemon containers and daemon", async () => {
    if (!daemonExited) {
      const listed = await client
        .call<{ ID: string }[]>("GET", "/v1/containers?all=1")
        .catch(() => [] as { ID: string }[]);
      const all = new Set([...rtdIds, ...listed.map((c) => c.ID)]);
      const queue = [...all];
      const worker = async (): Promise<void> => {
        for (let id = queue.shift(); id; id = queue.shift()) {
          await client.call("DELETE", `/v1/containers/${id}?force=1&v=1`).catch(() => undefined);
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      daemon.kill("SIGTERM");
      for (let i = 0; i < 100 && !daemonExited; i++) await sleep(50);
      if (!daemonExited) daemon.kill("SIGKILL");
    }
    // Whatever the daemon could not remove: kill by pid, as recorded in the state files.
    const dir = join(rtRoot, "containers");
    for (const id of existsSync(dir) ? readdirSync(dir) : []) {
      const r = JSON.parse(readOr(join(dir, id, "container.json"), "null")) as ContainerRecord;
      if (!r) continue;
      for (const [pid, start] of [
        [r.state.pid, r.state.pidStartTime],
        [r.state.shimPid, undefined],
      ] as const) {
        if (pid && (start === undefined || startTimeOf(pid) === start)) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // gone
          }
        }
      }
      results.leftovers.push(`daemon container ${id.slice(0, 12)} (killed by pid)`);
    }
    await sleep(200);
    for (const pid of slotProcesses(rtRun)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  });
  for (let i = 0; ; i++) {
    if (
      await client.call("GET", "/v1/ping").then(
        () => true,
        () => false,
      )
    )
      break;
    if (daemonExited || i > 200)
      throw new Error(`the daemon did not start: ${readOr(join(base, "rtd.log"))}`);
    await sleep(50);
  }
  must(
    await timeProcess(process.execPath, [CLI, "load", "-i", images.dockerArchive], rtEnv),
    "load",
  );
  const daemonRssBeforeKb = statusKb(daemonPid, "VmRSS");
  log(`daemon pid ${daemonPid}, pool size ${POOL_SIZE}`);

  // Both pools full and the CPUs quiet: what a host between two starts looks like.
  const settle = async (): Promise<void> => {
    const deadline = now() + 3000;
    while (now() < deadline && !(libPoolFull() && readyDaemonInits(rtRun) >= POOL_SIZE)) {
      await sleep(10);
    }
    if (now() >= deadline) {
      results.poolTimeouts++;
      if (results.poolTimeouts <= 3)
        log(
          `pools not full after 3 s: library ${poolState.ready.length} ready + ${poolState.starting} starting, daemon ${readyDaemonInits(rtRun)} ready`,
        );
    }
    // /proc/stat counts in 10 ms ticks: a 100 ms window over 2 CPUs has 20 of them.
    const quietBy = now() + 300;
    while ((await busyFraction(100)) > 0.25) {
      if (now() > quietBy) {
        results.quiesceTimeouts++;
        break;
      }
    }
  };

  /** What is known of a library container that did not exit 0; then it is removed. */
  const libraryFailure = async (id: string, code: number): Promise<string> => {
    const r = service.get(id);
    const logText = readOr(service.logPath(id)).trim().slice(-300);
    await service.remove(id, { force: true, volumes: true }).catch(() => undefined);
    return (
      `container exited with ${code}` +
      (r.state.oomKilled ? " (OOM killed)" : "") +
      (r.state.error ? `; error: ${r.state.error}` : "") +
      `; its log: ${logText ? JSON.stringify(logText) : "(empty)"}`
    );
  };

  // -- the kinds of samples
  let runcN = 0;
  const kinds: Record<string, (keep: boolean) => Promise<void>> = {
    runc: async (keep) => {
      const id = `corral-bench-${process.pid}-${runcN++}`;
      ownCgroups.add(id);
      const t = await timeProcess("runc", ["--root", runcRoot, "run", "--bundle", bundle, id]);
      if (keep) results.runc.push(must(t, "runc run"));
      else must(t, "runc run");
    },
    library: async (keep) => {
      const warm = poolState.ready.length > 0;
      const t0 = now();
      const r = await service.create({ image: TEST_IMAGE_NAME, cmd: ["true"] });
      libIds.add(r.id);
      ownCgroups.add(`${cgroupParent(libRoot)}/${r.id}`);
      const t1 = now();
      inStart = keep;
      try {
        await service.start(r.id);
      } finally {
        inStart = false;
      }
      const t2 = now();
      const code = await service.wait(r.id);
      const t3 = now();
      if (code !== 0) throw new Error(await libraryFailure(r.id, code));
      await service.remove(r.id, { force: true, volumes: true });
      if (!keep) return;
      results.libCreate.push(t1 - t0);
      results.libStart.push(t2 - t1);
      results.libStartWarm.push(warm);
      results.libCreateToExited.push(t3 - t0);
    },
    cli: async (keep) => {
      const t = await timeProcess(
        process.execPath,
        [CLI, "run", "--rm", TEST_IMAGE_NAME, "true"],
        rtEnv,
      );
      if (keep) results.cli.push(must(t, "corral-rt run --rm"));
      else must(t, "corral-rt run --rm");
    },
    api: async (keep) => {
      // A client that is already running (the agent's view): create, start, wait for the exit
      // code over the daemon's socket. No Node start-up; removal afterwards is not timed.
      const t0 = now();
      const { Id } = await client.call<{ Id: string }>("POST", "/v1/containers", {
        image: TEST_IMAGE_NAME,
        cmd: ["true"],
      });
      rtdIds.add(Id);
      ownCgroups.add(`${cgroupParent(rtRoot)}/${Id}`);
      await client.call("POST", `/v1/containers/${Id}/start`);
      const { StatusCode } = await client.call<{ StatusCode: number }>(
        "POST",
        `/v1/containers/${Id}/wait`,
      );
      const t1 = now();
      if (StatusCode !== 0) throw new Error(`API run: exit code ${StatusCode}`);
      await client.call("DELETE", `/v1/containers/${Id}?force=1&v=1`);
      if (keep) results.api.push(t1 - t0);
    },
    node: async (keep) => {
      const t = await timeProcess(process.execPath, ["-e", "0"]);
      if (keep) results.nodeFloor.push(must(t, "node -e 0"));
    },
    cliHelp: async (keep) => {
      const t = await timeProcess(process.execPath, [CLI, "--help"], rtEnv);
      if (keep) results.cliHelp.push(must(t, "corral-rt --help"));
    },
  };

  const order = Object.keys(kinds);
  const rounds = WARMUP + RUNS;
  const t0 = now();
  log(`${rounds} rounds of ${order.join(", ")} (first ${WARMUP} discarded)`);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < order.length; k++) {
      const kind = order[(round + k) % order.length] as string;
      await settle();
      try {
        await (kinds[kind] as (keep: boolean) => Promise<void>)(round >= WARMUP);
      } catch (err) {
        // Recorded and shown in the report; the run goes on unless it keeps failing.
        const message = `${kind}, round ${round + 1}: ${(err as Error).message}`;
        results.failures.push(message);
        log(`FAILED ${message}`);
        if (results.failures.length > 10) throw new Error(`too many failures; last: ${message}`);
      }
    }
    if ((round + 1) % 10 === 0) log(`round ${round + 1}/${rounds}`);
  }
  log(`interleaved samples took ${((now() - t0) / 1000).toFixed(0)} s`);

  // -- a burst: more starts back to back than the pool holds (what a cold pool costs)
  await settle();
  const burstIds: string[] = [];
  for (let i = 0; i < BURST; i++) {
    burstIds.push((await service.create({ image: TEST_IMAGE_NAME, cmd: ["sleep", "60"] })).id);
    ownCgroups.add(`${cgroupParent(libRoot)}/${burstIds[i]}`);
  }
  for (const id of burstIds) {
    const warm = poolState.ready.length > 0;
    const t = now();
    await service.start(id);
    results.burst.push({ ms: now() - t, warm });
  }
  for (const id of burstIds) await service.remove(id, { force: true, volumes: true });

  // -- probes of the init alone: spec in, status out, from a warm init of the pool
  const probeDir = join(base, "probe");
  mkdirSync(probeDir);
  const initSpecOf = (r: ContainerRecord): InitSpec =>
    (service as unknown as { initSpec(r: ContainerRecord): InitSpec }).initSpec(r);
  for (let i = 0; i < PROBES * 3; i++) {
    await settle();
    const kind = (["bare", "early", "setup"] as const)[i % 3] as "bare" | "early" | "setup";
    const early = kind === "early";
    // A container of its own each time: an overlay's workdir is usable by one mount at a time.
    const probe = await service.create({ image: TEST_IMAGE_NAME, cmd: ["true"] });
    const spec = initSpecOf(probe);
    if (early) spec.process.logPath = join(base, "no/such/dir/log");
    else spec.process.args = ["/no/such/command"];
    // "bare": a spec that is not even an object, refused by zod before it compiles anything.
    const sent = kind === "bare" ? (42 as unknown as InitSpec) : spec;
    const warm = await take(); // the unwrapped take: not part of the step profile
    const dir = join(probeDir, String(i));
    mkdirSync(dir);
    const t = now();
    const message = await warm.launch(sent, dir).then(
      () => "started",
      (err: Error) => err.message,
    );
    const elapsed = now() - t;
    const expected = { bare: /./, early: /open log file/, setup: /not found|no such file/ }[kind];
    if (message === "started" || !expected.test(message))
      throw new Error(`probe: unexpected init answer: ${message}`);
    ({ bare: results.probeBare, early: results.probeEarly, setup: results.probeSetup })[kind].push(
      elapsed,
    );
    for (let w = 0; w < 100 && pidAlive(warm.hostPid); w++) await sleep(10);
    await service.remove(probe.id, { force: true, volumes: true });
  }

  // -- idle cost: many sleeping containers on the real daemon
  log(`starting ${IDLE_CONTAINERS} idle containers on the daemon`);
  const idle: IdleResults = {
    containers: IDLE_CONTAINERS,
    startMs: [],
    totalStartSeconds: 0,
    daemonRssBeforeKb,
    daemonRssKb: 0,
    daemonRssAfterIdleKb: 0,
    daemonPssKb: undefined,
    daemonCpuPercent: NaN,
    idleSeconds: IDLE_SECONDS,
    shimsCpuTicks: 0,
    perContainer: {
      dashRssKb: 0,
      unshareRssKb: 0,
      dashPssKb: undefined,
      unsharePssKb: undefined,
      containerRssKb: 0,
    },
    poolInits: { count: 0, rssKb: 0, pssKb: undefined },
  };
  results.idle = idle;
  const idleIds: string[] = [];
  const tIdle = now();
  for (let i = 0; i < IDLE_CONTAINERS; i++) {
    const { Id } = await client.call<{ Id: string }>("POST", "/v1/containers", {
      image: TEST_IMAGE_NAME,
      cmd: ["sleep", "1000000"],
    });
    rtdIds.add(Id);
    ownCgroups.add(`${cgroupParent(rtRoot)}/${Id}`);
    idleIds.push(Id);
    const t = now();
    await client.call("POST", `/v1/containers/${Id}/start`);
    idle.startMs.push(now() - t);
    if ((i + 1) % 50 === 0) log(`${i + 1}/${IDLE_CONTAINERS} started`);
  }
  idle.totalStartSeconds = (now() - tIdle) / 1000;
  // Let the pool refill and the daemon's start-up garbage be collected the normal way.
  await sleep(5000);
  await settle();
  idle.daemonRssKb = statusKb(daemonPid, "VmRSS");
  idle.daemonPssKb = rollupKb(daemonPid, "Pss");

  const sums = { dashRss: 0, unshareRss: 0, dashPss: 0, unsharePss: 0, ctrRss: 0, n: 0 };
  let pssReadable = true;
  const shimPids: number[] = [];
  for (const id of idleIds) {
    const r = JSON.parse(
      readFileSync(join(rtRoot, "containers", id, "container.json"), "utf8"),
    ) as ContainerRecord;
    const ctr = r.state.pid;
    const unsharePid = ppidOf(ctr);
    const dash = r.state.shimPid;
    if (r.state.status !== "running" || ppidOf(unsharePid) !== dash)
      throw new Error(`container ${id.slice(0, 12)}: not running under its shim`);
    shimPids.push(dash, unsharePid);
    sums.dashRss += statusKb(dash, "VmRSS");
    sums.unshareRss += statusKb(unsharePid, "VmRSS");
    sums.ctrRss += statusKb(ctr, "VmRSS");
    const dp = rollupKb(dash, "Pss");
    const up = rollupKb(unsharePid, "Pss");
    if (dp === undefined || up === undefined) pssReadable = false;
    sums.dashPss += dp ?? 0;
    sums.unsharePss += up ?? 0;
    sums.n++;
  }
  idle.perContainer = {
    dashRssKb: sums.dashRss / sums.n,
    unshareRssKb: sums.unshareRss / sums.n,
    dashPssKb: pssReadable ? sums.dashPss / sums.n : undefined,
    unsharePssKb: pssReadable ? sums.unsharePss / sums.n : undefined,
    containerRssKb: sums.ctrRss / sums.n,
  };
  const inits = slotProcesses(rtRun).filter(
    (pid) =>
      readOr(`/proc/${pid}/cmdline`).includes("container/init.js") &&
      readOr(`/proc/${pid}/comm`).trim() !== "unshare",
  );
  idle.poolInits = {
    count: inits.length,
    rssKb: inits.reduce((a, pid) => a + statusKb(pid, "VmRSS"), 0),
    pssKb: inits.every((pid) => rollupKb(pid, "Pss") !== undefined)
      ? inits.reduce((a, pid) => a + (rollupKb(pid, "Pss") ?? 0), 0)
      : undefined,
  };

  log(`idling ${IDLE_SECONDS} s`);
  const shimTicks = (): number => shimPids.reduce((a, pid) => a + cpuTicks(pid), 0);
  const c0 = cpuTicks(daemonPid);
  const s0 = shimTicks();
  const w0 = now();
  await sleep(IDLE_SECONDS * 1000);
  const c1 = cpuTicks(daemonPid);
  const elapsedS = (now() - w0) / 1000;
  idle.shimsCpuTicks = shimTicks() - s0;
  idle.daemonCpuPercent = ((c1 - c0) / CLK_TCK / elapsedS) * 100;
  idle.idleSeconds = elapsedS;
  idle.daemonRssAfterIdleKb = statusKb(daemonPid, "VmRSS");
}

// ---- the report ----------------------------------------------------------------------------

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", cwd: REPO }).trim();
  } catch {
    return "unknown";
  }
}

const TREE = treeState();

function report(r: Results, problems: string[], error?: Error): string {
  const row = (name: string, v: readonly number[]): string => {
    const s = summarize(v);
    return `| ${name} | ${s.n} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.mean)} | ${ms(s.min)} | ${ms(s.max)} |`;
  };
  const runc = summarize(r.runc);
  const lib = summarize(r.libStart);
  const cli = summarize(r.cli);
  const api = summarize(r.api);
  const node = summarize(r.nodeFloor);
  const help = summarize(r.cliHelp);
  const warmStarts = r.libStartWarm.filter(Boolean).length;
  const out: string[] = [];
  out.push("# Corral runtime benchmark", "");
  out.push(
    `Written by \`npm run bench:runtime\` (packages/runtime/bench/runtime.ts) on ${new Date().toISOString()}.`,
    "",
  );
  out.push("## Machine and tree", "");
  out.push(`- CPUs: ${sh("nproc", [])} (${cpus()[0]?.model ?? "unknown"})`);
  out.push(`- memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`);
  out.push(`- kernel: ${release()}`);
  out.push(`- node: ${process.version}`);
  out.push(`- runc: ${sh("runc", ["--version"]).split("\n")[0]}`);
  out.push(
    `- cgroups: ${existsSync("/sys/fs/cgroup/memory/memory.limit_in_bytes") ? "v1 (hybrid)" : "v2"}`,
  );
  out.push(`- tree: ${TREE} (when the benchmark started)`);
  out.push(
    `- load average when written: ${readOr("/proc/loadavg").split(" ").slice(0, 3).join(" ")}`,
    "",
  );
  if (error) out.push(`**The benchmark failed:** ${error.message}`, "");
  if (r.failures.length) {
    out.push(
      `**${r.failures.length} sample(s) failed** (not counted in the tables):`,
      "",
      ...r.failures.map((f) => `- ${f}`),
      "",
    );
  }

  out.push("## Start latency, interleaved round-robin in one run (ms)", "");
  out.push(
    `${WARMUP} warm-up rounds discarded. Before each sample both init pools are full (pool size ${POOL_SIZE}) and the CPUs have settled` +
      (r.quiesceTimeouts ? ` (${r.quiesceTimeouts} samples started without a quiet CPU).` : ".") +
      (r.poolTimeouts ? ` ${r.poolTimeouts} times a pool was not full after 3 s of waiting.` : ""),
    "",
  );
  out.push("| what | runs | p50 | p95 | mean | min | max |", "|---|---|---|---|---|---|---|");
  out.push(row("runc: `runc run` of /bin/true, spawn to exit", r.runc));
  out.push(
    row(
      `Corral library: \`await service.start(id)\` (pool warm in ${warmStarts}/${r.libStartWarm.length})`,
      r.libStart,
    ),
  );
  out.push(row("Corral library: `service.create()` (not part of start)", r.libCreate));
  out.push(row("Corral library: create to exited, `true`", r.libCreateToExited));
  out.push(row("Corral end to end: `corral-rt run --rm IMAGE true`, spawn to exit", r.cli));
  out.push(row("daemon API from a running client: create + start + wait (exit code)", r.api));
  out.push(row("floor: `node -e 0`, spawn to exit", r.nodeFloor));
  out.push(row("floor: `corral-rt --help` (Node + CLI modules)", r.cliHelp));
  out.push("");

  const stepNames = Object.keys(r.steps);
  if (stepNames.length) {
    out.push("## Where a library start goes (ms, same samples)", "");
    out.push("| step | p50 | p95 | mean |", "|---|---|---|---|");
    let stepMeans = 0;
    for (const name of stepNames) {
      const s = summarize(r.steps[name] as number[]);
      stepMeans += s.mean;
      out.push(`| ${name} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.mean)} |`);
    }
    out.push(
      `| rest of start() (mutex, record updates, event loop turns, other synchronous work) | | | ${ms(lib.mean - stepMeans)} |`,
      "",
    );
  }
  if (r.probeEarly.length || r.burst.length) {
    out.push("## Init probes and a cold pool (ms)", "");
    out.push("| what | runs | p50 | p95 | mean | min | max |", "|---|---|---|---|---|---|---|");
    out.push(
      row(
        "init round trip, spec not an object (pipe both ways, JSON.parse, no real zod work)",
        r.probeBare,
      ),
    );
    out.push(
      row(
        "init round trip, valid spec failing at its first step (+ the init's first full zod parse)",
        r.probeEarly,
      ),
    );
    out.push(
      row("init round trip, full rootfs + pivot, then command not found (no cgroup)", r.probeSetup),
    );
    out.push(
      row(
        `start from a warm pool, burst of ${BURST}`,
        r.burst.filter((b) => b.warm).map((b) => b.ms),
      ),
    );
    out.push(
      row(
        `start with the pool empty, burst of ${BURST} (waits for a new Node init)`,
        r.burst.filter((b) => !b.warm).map((b) => b.ms),
      ),
    );
    out.push("");
  }

  const idle = r.idle;
  if (idle && idle.daemonRssKb) {
    const shimRss = idle.perContainer.dashRssKb + idle.perContainer.unshareRssKb;
    const shimPss =
      idle.perContainer.dashPssKb === undefined || idle.perContainer.unsharePssKb === undefined
        ? undefined
        : idle.perContainer.dashPssKb + idle.perContainer.unsharePssKb;
    const st = summarize(idle.startMs);
    out.push(`## Idle cost: ${idle.containers} containers running \`sleep 1000000\``, "");
    out.push("| what | value |", "|---|---|");
    out.push(
      `| daemon (\`node dist/daemon/main.js\`) VmRSS before any container | ${mb(idle.daemonRssBeforeKb)} MB |`,
    );
    out.push(`| daemon VmRSS with ${idle.containers} containers | ${mb(idle.daemonRssKb)} MB |`);
    out.push(
      `| daemon Pss with ${idle.containers} containers | ${idle.daemonPssKb === undefined ? "n/a" : `${mb(idle.daemonPssKb)} MB`} |`,
    );
    out.push(
      `| daemon VmRSS after ${idle.idleSeconds.toFixed(0)} s idle | ${mb(idle.daemonRssAfterIdleKb)} MB |`,
    );
    out.push(
      `| daemon CPU while idle (utime+stime over ${idle.idleSeconds.toFixed(1)} s) | ${idle.daemonCpuPercent.toFixed(2)} % of one core |`,
    );
    out.push(
      `| shims' CPU over the same time (all ${idle.containers * 2} dash + unshare) | ${idle.shimsCpuTicks} ticks |`,
    );
    out.push(
      `| per container: dash shim VmRSS + unshare VmRSS | ${mb(idle.perContainer.dashRssKb)} + ${mb(idle.perContainer.unshareRssKb)} = ${mb(shimRss)} MB |`,
    );
    out.push(
      `| per container: dash shim Pss + unshare Pss | ${shimPss === undefined ? "n/a" : `${mb(idle.perContainer.dashPssKb ?? 0)} + ${mb(idle.perContainer.unsharePssKb ?? 0)} = ${mb(shimPss)} MB`} |`,
    );
    out.push(
      `| per container: the container's own process (sleep) VmRSS | ${mb(idle.perContainer.containerRssKb)} MB |`,
    );
    out.push(
      `| the daemon's warm pool: ${idle.poolInits.count} Node inits, VmRSS (Pss) | ${mb(idle.poolInits.rssKb)} MB (${idle.poolInits.pssKb === undefined ? "n/a" : `${mb(idle.poolInits.pssKb)} MB`}) |`,
    );
    out.push(
      `| starting them: API start p50 / p95, total | ${ms(st.p50)} / ${ms(st.p95)} ms, ${idle.totalStartSeconds.toFixed(1)} s for ${idle.containers} (create + start, one at a time) |`,
    );
    out.push("");
  }

  out.push("## Goals", "");
  out.push("| goal | target | measured | met? |", "|---|---|---|---|");
  const yes = (ok: boolean, known = true): string =>
    !known ? "not measured" : ok ? "met" : "**not met**";
  out.push(
    `| library start p50 <= 1/4 of runc p50 | <= ${ms(runc.p50 / 4)} ms | ${ms(lib.p50)} ms (${(lib.p50 / runc.p50).toFixed(2)} x runc) | ${yes(lib.p50 <= runc.p50 / 4, lib.n > 0 && runc.n > 0)} |`,
  );
  out.push(
    `| \`run --rm true\` end to end <= runc (p50) | <= ${ms(runc.p50)} ms | ${ms(cli.p50)} ms (${(cli.p50 / runc.p50).toFixed(2)} x runc) | ${yes(cli.p50 <= runc.p50, cli.n > 0 && runc.n > 0)} |`,
  );
  if (idle && idle.daemonRssKb) {
    out.push(
      `| daemon RSS with ${idle.containers} idle containers | < 150 MB | ${mb(idle.daemonRssKb)} MB | ${yes(idle.daemonRssKb < 150 * 1024)} |`,
    );
    out.push(
      `| daemon CPU with ${idle.containers} idle containers | < 2 % of a core | ${idle.daemonCpuPercent.toFixed(2)} % | ${yes(idle.daemonCpuPercent < 2)} |`,
    );
  } else {
    out.push("| daemon RSS and CPU with idle containers | | | not measured |");
  }
  out.push("");

  out.push("## What dominates each number", "");
  out.push(
    `- **runc (${ms(runc.p50)} ms)**: a Go binary that re-executes itself as \`runc init\` ` +
      "(nsexec clones into the namespaces), joins its cgroups in every v1 hierarchy, mounts a " +
      "plain directory rootfs (no overlay), /proc, /dev, /sys, pivots, execs, then waits and " +
      "deletes the container (cgroups, state dir). Every start pays two Go process starts.",
  );
  const stepSummaries = stepNames
    .map((name) => ({ name, s: summarize(r.steps[name] as number[]) }))
    .sort((a, b) => b.s.mean - a.s.mean);
  const restMean = lib.mean - stepSummaries.reduce((a, x) => a + x.s.mean, 0);
  const top = [
    ...stepSummaries.map((x) => ({ name: x.name, mean: x.s.mean })),
    {
      name:
        "the rest of start() outside those steps (mutex, record updates, event loop turns, " +
        "and whatever start() does synchronously besides, such as spawning the pool's " +
        "replacement init)",
      mean: restMean,
    },
  ]
    .sort((a, b) => b.mean - a.mean)
    .slice(0, 3)
    .map((x) => `${x.name} ${ms(x.mean)} ms`)
    .join(", ");
  const bare = summarize(r.probeBare);
  const early = summarize(r.probeEarly);
  const setup = summarize(r.probeSetup);
  const launch = stepSummaries.find((x) => x.name.startsWith("launch"))?.s;
  out.push(
    `- **library start (${ms(lib.p50)} ms p50)**: no process is started for the container; its ` +
      `init was started ahead of time (the pool was warm in ${warmStarts} of ` +
      `${r.libStartWarm.length} starts). By mean, the largest steps are: ${top || "n/a"}. ` +
      `In the init (probes, from warm inits): a bare round trip (write the spec, wake the init, ` +
      `JSON.parse, status back) takes ${ms(bare.p50)} ms; a valid spec failing at its first ` +
      `step (adds the zod parse) ${ms(early.p50)} ms; adding the overlay, /proc, /dev, /sys, ` +
      `masks and pivot_root, ${ms(setup.p50)} ms; the whole launch up to the "exec" status ` +
      `${ms(launch?.p50 ?? NaN)} ms. A start that finds the pool empty waits for a new Node ` +
      `init: ${ms(summarize(r.burst.filter((b) => !b.warm).map((b) => b.ms)).p50)} ms p50 in ` +
      `the burst.`,
  );
  const c2e = summarize(r.libCreateToExited);
  const exitPath = c2e.mean - summarize(r.libCreate).mean - lib.mean;
  out.push(
    `- **create to exited (${ms(c2e.p50)} ms)**: by mean, create ` +
      `${ms(summarize(r.libCreate).mean)} ms (directories, files, the fsync'd state file), ` +
      `start ${ms(lib.mean)} ms, and ${ms(exitPath)} ms from the "exec" status to the exit ` +
      "recorded: `true` runs and exits, its namespaces and mounts are torn down as unshare " +
      "exits, the dash shim writes the exit file (forks mv, then rm for the slot), and the " +
      "daemon reads it, destroys the cgroup and saves the state (fsync).",
  );
  out.push(
    `- **\`run --rm true\` end to end (${ms(cli.p50)} ms)**: a new Node process for the CLI ` +
      `(\`node -e 0\` alone: ${ms(node.p50)} ms; with the CLI's modules loaded, \`--help\`: ` +
      `${ms(help.p50)} ms), then its calls to the daemon (create, then start attached until the ` +
      `exit code); create + start + wait from a client that is already running take ` +
      `${ms(api.p50)} ms. ` +
      (cli.p50 > runc.p50
        ? `Node's own start-up alone is ${((node.p50 / runc.p50) * 100).toFixed(0)}% of runc's whole run, so a Node CLI can only beat runc with the CLI's start-up cut to the bone.`
        : "The CLI beats runc."),
  );
  if (idle && idle.daemonRssKb) {
    out.push(
      `- **idle cost**: the daemon holds ${mb(idle.daemonRssKb)} MB RSS with ` +
        `${idle.containers} containers (${mb(idle.daemonRssBeforeKb)} MB before the first one); ` +
        `each container costs a dash and an unshare process, ${mb(
          idle.perContainer.dashRssKb + idle.perContainer.unshareRssKb,
        )} MB RSS together` +
        (idle.perContainer.dashPssKb !== undefined && idle.perContainer.unsharePssKb !== undefined
          ? ` but ${mb(idle.perContainer.dashPssKb + idle.perContainer.unsharePssKb)} MB Pss (their text is shared)`
          : "") +
        `. The pool's waiting Node inits are the largest fixed cost: ` +
        `${idle.poolInits.count} of them (pool size ${POOL_SIZE}` +
        (idle.poolInits.count < POOL_SIZE ? "; fewer after the back-to-back starts" : "") +
        `) held ` +
        `${mb(idle.poolInits.rssKb)} MB RSS. Idle, the daemon used ` +
        `${idle.daemonCpuPercent.toFixed(2)}% of a core ` +
        `(${((idle.daemonCpuPercent * 10000) / idle.containers).toFixed(0)} µs of CPU per ` +
        "container per second, if all of it were per-container work).",
    );
  }
  out.push("");
  const leftovers = [...r.leftovers, ...problems];
  out.push(
    "## Cleanup",
    "",
    leftovers.length
      ? `Left behind or failed: ${leftovers.join("; ")}`
      : "Every container removed, the daemon stopped, no cgroup or mount left, temp dirs removed.",
    "",
  );
  return out.join("\n");
}

let failure: Error | undefined;
try {
  await main();
} catch (err) {
  failure = err as Error;
  log(`failed: ${failure.stack ?? failure.message}`);
} finally {
  log("cleaning up");
}
const problems = await cleanup();
for (const p of problems) log(`cleanup: ${p}`);
const text = report(results, problems, failure);
mkdirSync(join(REPO, "bench/results"), { recursive: true });
writeFileSync(RESULTS, text);
process.stdout.write(text + "\n");
log(`wrote ${RESULTS}`);
process.exit(failure ? 1 : 0);
