// Corral fleet benchmark (issue 14): many simulated hosts against the web app.
//
//   npm run bench:fleet     (builds, then runs this with `node --import tsx`)
//
// BENCH_HOSTS (200) simulated agents (apps/web/test/fixtures/sim-agent.ts: the real protocol,
// no runtime behind them) with BENCH_CONTAINERS (50) running containers each, 1 Hz stats of
// every container, against BENCH_WEBS (1) web processes on one database (SQLite; PostgreSQL
// with CORRAL_TEST_DATABASE=postgresql, a private cluster) (with 2 or
// more: a private redis-server and CORRAL_REDIS_URL; agents spread round-robin, the browser
// on the last process). Measured:
// - join: every host joined (a join token each) and online, from the first join;
// - the web processes' CPU (utime + stime, % of one core) and RSS over BENCH_SECONDS (30) of
//   steady 1 Hz stats, with one container's stats watched by a browser socket;
// - event → browser: BENCH_EVENTS (50) `die` deltas, one at a time, from agents on the first
//   process, timed until the browser socket (on the last process) gets the container pushed
//   as exited (the push is made after the delta is stored);
// - reconnect storm: every web process killed (SIGKILL) and restarted; every agent reconnects
//   by itself (1-15 s backoff with jitter, as the real agent) at once; timed until every host
//   is online again with a fresh lastSeenAt (goal < 30 s), with the processes' CPU meanwhile.
// Writes BENCH_RESULTS (bench/results/fleet.md). Everything it started is stopped at the end.
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { io, type Socket } from "socket.io-client";
import { BROWSER_NAMESPACE, type JoinResponse } from "@corral/protocol";
import {
  CLK_TCK,
  cpuTicks,
  log,
  machineLines,
  markdownTable,
  now,
  readOr,
  REPO,
  statusKb,
  summarize,
  treeState,
} from "../../../packages/runtime/bench/lib.ts";
import { writeResults } from "../../../packages/runtime/bench/lib.ts";
import { startRedis, type TestRedis } from "../test/fixtures/redis.ts";
import { SIM_FACTS, SimAgent } from "../test/fixtures/sim-agent.ts";
import { startWebStack, waitFor, type WebStack } from "../test/fixtures/stack.ts";

const HOSTS = Number(process.env.BENCH_HOSTS ?? 200);
const CONTAINERS = Number(process.env.BENCH_CONTAINERS ?? 50);
const WEBS = Math.max(1, Number(process.env.BENCH_WEBS ?? 1));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 50);
const RESULTS = resolve(REPO, process.env.BENCH_RESULTS ?? "bench/results/fleet.md");
const STORM_GOAL_S = 30;

const mb = (kb: number): string => (kb / 1024).toFixed(0);
const ms = (v: number): string => v.toFixed(v < 10 ? 2 : 1);
const load = (): string => readOr("/proc/loadavg").split(" ").slice(0, 3).join(" ");

interface HostRow {
  id: string;
  status: string;
  lastSeenAt: string | null;
}

/**
 * A request again when the connection was reset: under this load Node's server may close an
 * idle keep-alive connection just as the client reuses it (the request was not read then).
 */
async function retried<T>(f: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await f();
    } catch (err) {
      if (attempt >= 3 || !String((err as Error).cause).includes("ECONNRESET")) throw err;
      log(`a request was reset (${attempt}); again`);
    }
  }
}

/** A browser's live socket on a web process, logged in with the session cookie. */
export async function browserSocket(url: string): Promise<Socket> {
  const res = await fetch(`${url}/api/v1/auth/session`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-corral-csrf": "1" },
    body: JSON.stringify({ email: "admin@example.com", password: "correct horse" }),
  });
  const cookie = res.headers.get("set-cookie")?.split(";")[0];
  if (!res.ok || !cookie) throw new Error(`browser login failed: ${res.status}`);
  // forceNew: its own connection, not the simulated agents' (their Manager has no cookie).
  const socket = io(url + BROWSER_NAMESPACE, {
    transports: ["websocket"],
    extraHeaders: { cookie },
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return socket;
}

/** CPU (% of one core) and RSS (mean, max) of each pid, sampled each second until `until`. */
export async function usage(
  pids: number[],
  until: () => Promise<boolean> | boolean,
): Promise<{ cpu: number; rssMeanKb: number; rssMaxKb: number }[]> {
  const t0 = now();
  const c0 = pids.map(cpuTicks);
  const rss = pids.map(() => [] as number[]);
  do {
    await sleep(1000);
    pids.forEach((p, i) => rss[i]!.push(statusKb(p, "VmRSS")));
  } while (!(await until()));
  const s = (now() - t0) / 1000;
  return pids.map((p, i) => ({
    cpu: ((cpuTicks(p) - c0[i]!) / CLK_TCK / s) * 100,
    rssMeanKb: rss[i]!.reduce((a, b) => a + b, 0) / rss[i]!.length,
    rssMaxKb: Math.max(...rss[i]!),
  }));
}

async function main(): Promise<void> {
  const tree = treeState();
  const loadBefore = load();
  const rows: string[][] = [];
  const notes: string[] = [];
  let redis: TestRedis | undefined;
  const webs: WebStack[] = [];
  const agents: SimAgent[] = [];
  let browser: Socket | undefined;
  let loadDuring = "";
  let failure: unknown;
  try {
    const env: Record<string, string> = {};
    if (WEBS > 1) {
      redis = await startRedis();
      env.CORRAL_REDIS_URL = redis.url;
    }
    log(`starting ${WEBS} web process(es)`);
    webs.push(await startWebStack("bench-fleet", { env }));
    for (let i = 1; i < WEBS; i++)
      webs.push(
        await startWebStack("bench-fleet", {
          env,
          dataDir: webs[0]!.dataDir,
          databaseUrl: webs[0]!.databaseUrl,
        }),
      );
    const api = webs[WEBS - 1]!;
    const pids = (): number[] => webs.map((w) => w.webPid()!);
    const hosts = async (): Promise<HostRow[]> =>
      (await retried(() => api.api<HostRow[]>("GET", "/api/v1/hosts"))).body;

    log(`joining ${HOSTS} hosts × ${CONTAINERS} containers`);
    const t0 = now();
    const joinOne = async (i: number): Promise<void> => {
      const jt = await retried(() =>
        webs[0]!.api<{ token: string }>("POST", "/api/v1/hosts/join-tokens"),
      );
      const web = webs[i % WEBS]!;
      const joined = await retried(() =>
        web.api<JoinResponse>(
          "POST",
          "/api/v1/agents/join",
          { token: jt.body.token, name: `sim-${i}`, facts: SIM_FACTS },
          null,
        ),
      );
      if (joined.status !== 200) throw new Error(`join ${i}: ${JSON.stringify(joined.body)}`);
      agents[i] = new SimAgent(web.url, joined.body, { containers: CONTAINERS, stats: true });
    };
    for (let i = 0; i < HOSTS; i += 10)
      await Promise.all(Array.from({ length: Math.min(10, HOSTS - i) }, (_, j) => joinOne(i + j)));
    await waitFor(
      `${HOSTS} hosts online`,
      async () => (await hosts()).filter((h) => h.status === "online").length === HOSTS,
      600_000,
    );
    const joinS = (now() - t0) / 1000;
    log(`${HOSTS} online in ${joinS.toFixed(1)} s; waiting for every snapshot`);
    await waitFor(
      "every snapshot stored",
      async () =>
        (await retried(() => api.api<unknown[]>("GET", "/api/v1/containers"))).body.length ===
        HOSTS * CONTAINERS,
      600_000,
    );
    const storedS = (now() - t0) / 1000;
    rows.push([
      `join: ${HOSTS} hosts (a join token each, 10 at a time) online / every snapshot stored`,
      `${joinS.toFixed(1)} s / ${storedS.toFixed(1)} s`,
      "",
    ]);

    browser = await browserSocket(api.url);
    const watched = agents[0]!.containers[1]!.id;
    let samples = 0;
    browser.on("stats", (s: { id: string }) => {
      if (s.id === watched) samples++;
    });
    browser.emit("stats:watch", { id: watched });
    await sleep(5000);
    samples = 0;
    log(`measuring ${SECONDS} s of 1 Hz stats`);
    const end = now() + SECONDS * 1000;
    const steady = await usage(pids(), () => now() >= end);
    loadDuring = load();
    steady.forEach((u, i) =>
      rows.push([
        `web process ${i + 1}/${WEBS}: CPU over ${SECONDS} s of ${HOSTS * CONTAINERS} samples/s; RSS mean / max`,
        `${u.cpu.toFixed(1)}% of a core; ${mb(u.rssMeanKb)} / ${mb(u.rssMaxKb)} MB`,
        "",
      ]),
    );
    rows.push([
      `stats of one watched container reaching the browser${WEBS > 1 ? " (agent on process 1, browser on the last)" : ""}`,
      `${samples} in ${SECONDS} s`,
      `1 Hz: ~${SECONDS}`,
    ]);
    rows.push([
      "this benchmark's own process (the simulated agents and the browser socket)",
      `${((cpuTicks(process.pid) / CLK_TCK / process.uptime()) * 100).toFixed(0)}% of a core over its life`,
      "",
    ]);

    log(`event → browser: ${EVENTS} die deltas one at a time`);
    const latencies: number[] = [];
    const senders = agents.filter((_, i) => i % WEBS === 0);
    for (let k = 0; k < EVENTS; k++) {
      const agent = senders[k % senders.length]!;
      const index = 2 + Math.floor(k / senders.length);
      const id = agent.containers[index]!.id;
      const pushed = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no push of ${id} within 30 s`)), 30_000);
        const on = (p: { id: string; container: { state: string } | null }): void => {
          if (p.id !== id || p.container?.state !== "exited") return;
          clearTimeout(timer);
          browser!.off("container", on);
          resolve();
        };
        browser!.on("container", on);
      });
      const t = now();
      agent.die(index, 137);
      await pushed;
      latencies.push(now() - t);
      await sleep(100);
    }
    const lat = summarize(latencies);
    rows.push([
      `event → browser: a die delta from a simulated agent → the browser socket gets the container as exited, ${EVENTS} one at a time under full stats load: p50 / p95 / max`,
      `${ms(lat.p50)} / ${ms(lat.p95)} / ${ms(lat.max)} ms`,
      "",
    ]);

    log("reconnect storm: every web process killed and restarted");
    const before = Date.now();
    for (const w of webs) await w.stopWeb("SIGKILL");
    const t1 = now();
    // Each agent's first connection after the kill, and how many were cut again after it.
    let connected = 0;
    let connectedS = 0;
    let dropped = 0;
    for (const a of agents) {
      a.socket.once("connect", () => {
        if (++connected === HOSTS) connectedS = (now() - t1) / 1000;
        a.socket.once("disconnect", () => dropped++);
      });
    }
    await Promise.all(webs.map((w) => w.startWeb()));
    const upS = (now() - t1) / 1000;
    let onlineS = 0;
    const storm = await usage(pids(), async () => {
      const back = (await hosts()).filter(
        (h) => h.status === "online" && h.lastSeenAt && Date.parse(h.lastSeenAt) > before,
      ).length;
      if (back === HOSTS) onlineS = (now() - t1) / 1000;
      return back === HOSTS || now() - t1 > 600_000;
    });
    rows.push([
      `reconnect storm: all ${HOSTS} agents at once after every web process was killed: web up (ready to serve) / every agent connected again / every host online`,
      `${upS.toFixed(1)} s / ${connectedS ? connectedS.toFixed(1) + " s" : `${connected} of ${HOSTS}`} / ${onlineS ? onlineS.toFixed(1) + " s" : "not within 600 s"}`,
      `goal < ${STORM_GOAL_S} s`,
    ]);
    rows.push([
      "agents whose new connection was cut again before every host was online",
      String(dropped),
      "0",
    ]);
    storm.forEach((u, i) =>
      rows.push([
        `web process ${i + 1}/${WEBS} during the storm: CPU; RSS max`,
        `${u.cpu.toFixed(0)}% of a core; ${mb(u.rssMaxKb)} MB`,
        "",
      ]),
    );
  } catch (err) {
    // What was measured before the failure is still worth writing down, with what broke.
    failure = err;
    notes.push(`the run stopped here: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    browser?.close();
    for (const a of agents) a?.close();
    log("cleaning up");
    for (const w of webs.slice(1)) await w.cleanup();
    await webs[0]?.cleanup();
    await redis?.stop();
  }

  const report = [
    "# Corral fleet benchmark: many hosts against the web app",
    "",
    `Written by \`npm run bench:fleet\` (apps/web/bench/fleet.ts) on ${new Date().toISOString()}:`,
    `${HOSTS} simulated hosts × ${CONTAINERS} containers, 1 Hz stats, ${WEBS} web process(es) on ${webs[0]?.databaseUrl.startsWith("postgresql") ? "PostgreSQL (a private cluster)" : "SQLite"}${WEBS > 1 ? " with the Redis adapter" : ""}.`,
    "",
    "## Machine and tree",
    "",
    ...machineLines(tree),
    `- load average before the run: ${loadBefore}; after the steady window: ${loadDuring} (the machine is shared with other engineers' work; the simulated agents run on it too)`,
    "",
    "## Results",
    "",
    ...markdownTable(["what", "measured", "goal"], rows),
    "",
    ...notes.map((n) => `- ${n}`),
    "",
  ].join("\n");
  writeResults(RESULTS, report);
  if (failure) throw failure;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  void main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
