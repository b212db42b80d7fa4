// Corral agent benchmark: the fleet backbone's cost on a busy host (issue 12's goals).
//
//   npm run bench:agent             (builds, then runs this with `node --import tsx`)
//
// Needs root, umoci and skopeo (for the busybox test image). Starts the fleet as the web
// app's tests do (apps/web/test/fixtures/stack.ts): a private runtime (its own CORRAL_ROOT and
// CORRAL_RUN under the system's temp dir), the web server on 127.0.0.1 with a fresh SQLite
// database, and a real agent joined with a join token. Then:
// - BENCH_CONTAINERS (200) busybox `sleep` containers, made and started over the daemon's
//   socket in concurrent batches (BENCH_BATCH, 8), so that the agent sees them as a host
//   would; 1 Hz stats flow for BENCH_SECONDS (60) while the agent's, corral-rtd's and the web
//   server's CPU (utime + stime deltas of /proc/PID/stat, % of one core) and RSS are sampled;
// - event latency: BENCH_KILLS (50) containers are killed one at a time with SIGKILL to their
//   init (from this process, so the clock is the kill itself) and timed until the web server
//   pushes the container, stored as exited, to a logged-in browser socket (the dashboard's
//   own channel: the push is made after the event is in the database).
// Writes bench/results/agent.md at the repository root. Goals: agent and daemon each < 5% of
// a core and < 150 MB RSS; event latency p95 < 100 ms. Everything it started is removed at
// the end (containers, daemon, agent, web server, temp dirs), also when it fails.
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { io, type Socket } from "socket.io-client";
import { BROWSER_NAMESPACE } from "@corral/protocol";
import { RuntimeClient, runtimePaths } from "@corral/runtime";
import { TEST_IMAGE_NAME } from "../../../packages/runtime/test/fixtures/images.ts";
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
  writeResults,
} from "../../../packages/runtime/bench/lib.ts";
import { startStack, waitFor, type Stack } from "../../web/test/fixtures/stack.ts";
import { createRequest } from "../src/translate.ts";

const CONTAINERS = Number(process.env.BENCH_CONTAINERS ?? 200);
const BATCH = Number(process.env.BENCH_BATCH ?? 8);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const KILLS = Math.min(Number(process.env.BENCH_KILLS ?? 50), CONTAINERS);
const RESULTS = join(REPO, "bench/results/agent.md");

const mb = (kb: number): string => (kb / 1024).toFixed(1);
const ms = (v: number): string => v.toFixed(v < 10 ? 2 : 1);

interface ContainerPush {
  hostId: string;
  id: string;
  container: { state: string; exitCode: number | null } | null;
}

/** A browser's live socket, logged in with the session cookie the login page gets. */
async function browserSocket(stack: Stack): Promise<Socket> {
  const res = await fetch(`${stack.url}/api/v1/auth/session`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-corral-csrf": "1" },
    body: JSON.stringify({ email: "admin@example.com", password: "correct horse" }),
  });
  const cookie = res.headers.get("set-cookie")?.split(";")[0];
  if (!res.ok || !cookie) throw new Error(`browser login failed: ${res.status}`);
  const socket = io(stack.url + BROWSER_NAMESPACE, {
    transports: ["websocket"],
    extraHeaders: { cookie },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return socket;
}

interface Usage {
  cpuPercent: number;
  rssMeanKb: number;
  rssMaxKb: number;
}

/** CPU over the window (% of one core) and RSS sampled once a second, of each pid. */
async function measure(
  pids: Record<string, number>,
  seconds: number,
): Promise<Record<string, Usage>> {
  const names = Object.keys(pids);
  const t0 = now();
  const c0 = Object.fromEntries(names.map((n) => [n, cpuTicks(pids[n]!)]));
  const rss = Object.fromEntries(names.map((n) => [n, [] as number[]]));
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    for (const n of names) rss[n]!.push(statusKb(pids[n]!, "VmRSS"));
  }
  const elapsed = (now() - t0) / 1000;
  return Object.fromEntries(
    names.map((n) => {
      const r = rss[n]!;
      return [
        n,
        {
          cpuPercent: ((cpuTicks(pids[n]!) - c0[n]!) / CLK_TCK / elapsed) * 100,
          rssMeanKb: r.reduce((a, b) => a + b, 0) / r.length,
          rssMaxKb: Math.max(...r),
        },
      ];
    }),
  );
}

async function main(): Promise<void> {
  const tree = treeState();
  const loadBefore = readOr("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  log("starting a private runtime, the web server and an agent");
  const stack = await startStack("bench-agent");
  const client = new RuntimeClient(runtimePaths(stack.runtime.env));
  let browser: Socket | undefined;
  const rows: string[][] = [];
  const notes: string[] = [];
  let loadDuring = "";
  try {
    const join = await stack.api<{ token: string }>("POST", "/api/v1/hosts/join-tokens");
    const agent = stack.startAgent({ name: "bench", token: join.body.token });
    const hostId = await waitFor("the host online", async () => {
      const hosts = await stack.api<{ id: string; status: string }[]>("GET", "/api/v1/hosts");
      return hosts.body.find((h) => h.status === "online")?.id;
    });
    browser = await browserSocket(stack);

    log(`starting ${CONTAINERS} containers, ${BATCH} at a time`);
    const t0 = now();
    const ids: string[] = [];
    for (let i = 0; i < CONTAINERS; i += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, CONTAINERS - i) }, async (_, j) => {
        const r = await client.call<{ Id: string }>(
          "POST",
          "/v1/containers",
          createRequest({
            image: TEST_IMAGE_NAME,
            name: `bench-${i + j}`,
            cmd: ["sleep", "100000"],
          }),
        );
        await client.call("POST", `/v1/containers/${r.Id}/start`);
        return r;
      });
      for (const r of await Promise.all(batch)) ids.push(r.Id);
    }
    const startSeconds = (now() - t0) / 1000;
    const running = new Set(ids);
    await waitFor(
      `the server to have ${CONTAINERS} running containers`,
      async () => {
        const list = await stack.api<{ id: string; state: string }[]>(
          "GET",
          `/api/v1/containers?hostId=${hostId}`,
        );
        return list.body.filter((c) => running.has(c.id) && c.state === "running").length ===
          CONTAINERS
          ? true
          : undefined;
      },
      300_000,
    );
    log(`${CONTAINERS} running (${startSeconds.toFixed(1)} s to start); settling for 10 s`);
    await sleep(10_000);

    // One container's stats watched from the browser: the 1 Hz samples reach the server.
    let watched = 0;
    browser.on("stats", (s: { id: string }) => {
      if (s.id === ids[0]) watched++;
    });
    browser.emit("stats:watch", { id: ids[0] });

    log(`measuring for ${SECONDS} s`);
    const usage = await measure(
      {
        agent: agent.pid!,
        daemon: stack.runtime.daemonPid(),
        web: stack.webPid()!,
      },
      SECONDS,
    );
    loadDuring = readOr("/proc/loadavg").split(" ").slice(0, 3).join(" ");
    browser.emit("stats:unwatch", { id: ids[0] });
    const goal = (what: string): string => (what === "web" ? "" : "goal < 5% / < 150 MB");
    for (const [name, label] of [
      ["agent", "agent (corral-agent)"],
      ["daemon", "runtime daemon (corral-rtd)"],
      ["web", "web server (Next.js, tRPC, socket.io, SQLite)"],
    ] as const) {
      const u = usage[name]!;
      rows.push([
        `${label}: CPU over ${SECONDS} s, RSS mean / max`,
        `${u.cpuPercent.toFixed(1)}% of a core; ${mb(u.rssMeanKb)} / ${mb(u.rssMaxKb)} MB`,
        goal(name),
      ]);
    }
    rows.push([
      `stats of one watched container pushed to the browser over the ${SECONDS} s`,
      `${watched} samples`,
      `1 Hz: ~${SECONDS}`,
    ]);

    log(`event latency: killing ${KILLS} containers one at a time`);
    const latencies: number[] = [];
    for (const id of ids.slice(0, KILLS)) {
      const info = await client.call<{ State: { Pid: number } }>("GET", `/v1/containers/${id}`);
      // Resolved by the push itself (polling would round the latency to the poll's period).
      const pushed = new Promise<ContainerPush>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the server never pushed ${id} as exited`)),
          30_000,
        );
        const onPush = (p: ContainerPush): void => {
          if (p.id !== id || p.container?.state !== "exited") return;
          clearTimeout(timer);
          browser!.off("container", onPush);
          resolve(p);
        };
        browser!.on("container", onPush);
      });
      const t = now();
      process.kill(info.State.Pid, "SIGKILL");
      const exited = await pushed;
      latencies.push(now() - t);
      if (exited.container?.exitCode !== 137)
        notes.push(`${id.slice(0, 12)} exited with ${exited.container?.exitCode}, not 137`);
      await sleep(200);
    }
    const lat = summarize(latencies);
    rows.push([
      `event latency, SIGKILL of a container's init → the web server pushes it as exited to a browser, ${KILLS} kills one at a time with ${CONTAINERS - 1}…${CONTAINERS - KILLS} others running: p50 / p95 / max`,
      `${ms(lat.p50)} / ${ms(lat.p95)} / ${ms(lat.max)} ms`,
      "goal p95 < 100 ms",
    ]);
    rows.push([
      `time to make and start the ${CONTAINERS} containers over the daemon's socket, ${BATCH} at a time`,
      `${startSeconds.toFixed(1)} s`,
      "",
    ]);
    if (CONTAINERS < 200) notes.push(`${CONTAINERS} containers, not 200 (BENCH_CONTAINERS).`);
  } finally {
    browser?.close();
    log("cleaning up");
    // Removed over the socket concurrently first: the fixture's cleanup spawns a CLI per container.
    const left = await client
      .call<{ ID: string }[]>("GET", "/v1/containers?all=1")
      .catch(() => [] as { ID: string }[]);
    for (let i = 0; i < left.length; i += BATCH)
      await Promise.all(
        left
          .slice(i, i + BATCH)
          .map((c) =>
            client.call("DELETE", `/v1/containers/${c.ID}?force=1&v=1`).catch(() => undefined),
          ),
      );
    await stack.cleanup();
  }

  const report = [
    "# Corral agent benchmark: the fleet backbone on a busy host",
    "",
    `Written by \`npm run bench:agent\` (apps/agent/bench/agent.ts) on ${new Date().toISOString()}.`,
    "",
    "## Machine and tree",
    "",
    ...machineLines(tree),
    `- load average before the run: ${loadBefore}; at the end of the measured window: ${loadDuring} (the machine is shared with other engineers' work)`,
    "",
    "## Results",
    "",
    "CPU is utime + stime from /proc/PID/stat over the window, in % of one core; RSS is VmRSS",
    "read once a second. Event latency is observed where the dashboard sees it: the web",
    "server's browser socket.io namespace (`/browser`), whose `container` push is made after the",
    "agent's delta is stored in the database.",
    "",
    ...markdownTable(["what", "measured", "goal"], rows),
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
