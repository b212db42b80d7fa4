// Two web processes, one fleet (CORRAL_REDIS_URL): a real agent joined to process A, a
// browser's socket on process B. B sees the host's own load live and its history, the
// container's events and stats, a start/stop asked of B reaches the agent on A, a terminal
// opened on B runs in the container, and B lists the host's networks as online (asking its
// agent on A), a change to a user or a logout made on A reaches their page on B, and one made on
// B while A is stopped reaches B's own pages at once. One database for both: A's (SQLite in A's data directory, WAL; PostgreSQL with
// CORRAL_TEST_DATABASE=postgresql, as `npm test` also runs it). The agent reaches A through a
// proxy that can send it to B instead: its connection then moves from A to B.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { after, before, test } from "node:test";
import { io, type Socket } from "socket.io-client";
import { BROWSER_NAMESPACE } from "@corral/protocol";
import { TEST_IMAGE_NAME } from "../../../packages/runtime/test/fixtures/images.ts";
import { startRedis, type TestRedis } from "./fixtures/redis.ts";
import { startStack, startWebStack, waitFor, type Stack, type WebStack } from "./fixtures/stack.ts";
import { startSwitchProxy, type SwitchProxy } from "./fixtures/switch-proxy.ts";

let redis: TestRedis;
let a: Stack;
let b: WebStack;
let proxy: SwitchProxy;
let agent: ChildProcess;
let hostId: string;
let browser: Socket;
let containerId: string;
const sockets: Socket[] = [];

/** A browser logged in on B: its session cookie and its page's live socket on B. */
async function pageOnB(who: {
  email: string;
  password: string;
}): Promise<{ cookie: string; socket: Socket }> {
  const login = await fetch(`${b.url}/api/v1/auth/session`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-corral-csrf": "1" },
    body: JSON.stringify(who),
  });
  const cookie = login.headers.get("set-cookie")?.split(";")[0];
  assert.ok(login.ok && cookie, `login on B: ${login.status}`);
  const socket = io(b.url + BROWSER_NAMESPACE, {
    transports: ["websocket"],
    reconnection: false,
    extraHeaders: { cookie },
  });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return { cookie, socket };
}

/** An operator's page on B and how its socket answers a terminal (by the role it has now). */
async function operatorOnB(email: string) {
  const who = { email, password: "operator's password" };
  const made = await b.api<{ id: string }>("POST", "/api/v1/users", { ...who, role: "operator" });
  assert.equal(made.status, 200, JSON.stringify(made.body));
  const page = await pageOnB(who);
  const terminal = async () =>
    JSON.stringify(
      await page.socket
        .timeout(10_000)
        .emitWithAck("exec:open", { id: "nope", sid: `t${Math.random()}`, cols: 80, rows: 24 }),
    );
  assert.match(await terminal(), /no container nope/, "an operator may open one");
  return { id: made.body.id, ...page, terminal };
}

interface ContainerPush {
  id: string;
  container: { state: string } | null;
}

/** The next push of this container in this state to the browser on B. */
function pushed(id: string, state: string): Promise<ContainerPush> {
  return new Promise((resolve) => {
    const on = (p: ContainerPush): void => {
      if (p.id !== id || p.container?.state !== state) return;
      browser.off("container", on);
      resolve(p);
    };
    browser.on("container", on);
  });
}

before(async () => {
  redis = await startRedis();
  const env = { CORRAL_REDIS_URL: redis.url };
  a = await startStack("cluster", { env });
  b = await startWebStack("cluster-b", { dataDir: a.dataDir, databaseUrl: a.databaseUrl, env });
  const jt = await b.api<{ token: string }>("POST", "/api/v1/hosts/join-tokens");
  proxy = await startSwitchProxy(a.url);
  agent = a.startAgent({ name: "cluster-host", token: jt.body.token, server: proxy.url });
  hostId = await waitFor("the host online, as B reads it", async () => {
    const hosts = await b.api<{ id: string; status: string }[]>("GET", "/api/v1/hosts");
    return hosts.body.find((h) => h.status === "online")?.id;
  });
  browser = (await pageOnB({ email: "admin@example.com", password: "correct horse" })).socket;
});
after(async () => {
  for (const s of sockets) s.close();
  agent?.kill("SIGKILL");
  await proxy?.close();
  await b?.cleanup();
  await a?.cleanup();
  await redis?.stop();
});

test("B's browser watching the host gets its load live from the agent on A", async () => {
  const times: number[] = [];
  const twoPushes = new Promise<void>((resolve) => {
    const on = (p: { hostId: string; samples: Array<{ time: string; cpuPercent: number }> }) => {
      if (p.hostId !== hostId || p.samples.length === 0) return;
      for (const s of p.samples) assert.ok(s.cpuPercent >= 0);
      times.push(Date.parse(p.samples.at(-1)?.time ?? ""));
      if (times.length < 2) return;
      browser.off("host:stats", on);
      resolve();
    };
    browser.on("host:stats", on);
  });
  browser.emit("hostStats:watch", { hostId });
  await twoPushes;
  // the second is a new sample (live), not the first repeated
  assert.ok((times[1] as number) > (times[0] as number), JSON.stringify(times));
  browser.emit("hostStats:unwatch", { hostId });
  // the host page's history, read on B: the last minutes at 1 s, which A holds in memory
  const history = await b.api<{ resolutionSeconds: number; points: Array<{ t: number }> }>(
    "GET",
    `/api/v1/hosts/${hostId}/stats?range=15m`,
  );
  assert.equal(history.status, 200, JSON.stringify(history.body));
  assert.equal(history.body.resolutionSeconds, 1);
  assert.ok(history.body.points.length >= 2, JSON.stringify(history.body));
});

test("B lists the host's networks and counts its volumes: the agent on A answers", async () => {
  const nets = await b.api<{ items: unknown[]; unreachable: Array<{ error: string }> }>(
    "GET",
    "/api/v1/networks",
  );
  assert.equal(nets.status, 200, JSON.stringify(nets.body));
  assert.deepEqual(nets.body.unreachable, []);
  assert.ok(nets.body.items.length > 0, "the runtime's default network at least");
  // the host page's counts (tRPC hosts.resources), read on B
  const input = encodeURIComponent(JSON.stringify({ id: hostId }));
  const counts = await b.api<{
    result: { data: { networks: number | null; volumes: number | null } };
  }>("GET", `/api/trpc/hosts.resources?input=${input}`);
  assert.equal(counts.status, 200, JSON.stringify(counts.body));
  assert.equal(counts.body.result.data.networks, nets.body.items.length);
  assert.equal(typeof counts.body.result.data.volumes, "number");
});

test("a container made through B runs on A's agent; B's browser sees it and its stats", async () => {
  const running = new Promise<ContainerPush>((resolve) => {
    const on = (p: ContainerPush): void => {
      if (p.container?.state !== "running") return;
      browser.off("container", on);
      resolve(p);
    };
    browser.on("container", on);
  });
  const made = await b.api<{ id: string; state: string }>("POST", "/api/v1/containers", {
    hostId,
    image: TEST_IMAGE_NAME,
    name: "across",
    cmd: ["sleep", "100000"],
  });
  assert.equal(made.status, 200, JSON.stringify(made.body));
  assert.equal(made.body.state, "running");
  containerId = made.body.id;
  assert.equal((await running).id, containerId);

  const sample = new Promise<{ id: string; memoryUsageBytes: number }>((resolve) =>
    browser.on("stats", (s: { id: string; memoryUsageBytes: number }) => {
      if (s.id === containerId) resolve(s);
    }),
  );
  browser.emit("stats:watch", { id: containerId });
  assert.ok((await sample).memoryUsageBytes > 0);
});

test("stop and start asked of B reach the agent on A; B's browser sees each", async () => {
  const exited = pushed(containerId, "exited");
  const stop = await b.api<{ state: string }>("POST", `/api/v1/containers/${containerId}/stop`);
  assert.equal(stop.status, 200, JSON.stringify(stop.body));
  assert.equal(stop.body.state, "exited");
  await exited;
  const running = pushed(containerId, "running");
  const start = await b.api<{ state: string }>("POST", `/api/v1/containers/${containerId}/start`);
  assert.equal(start.body.state, "running");
  await running;
});

test("a terminal opened on B runs in the container on A: hostname answers", async () => {
  let out = "";
  const answered = new Promise<string>((resolve) => {
    browser.on("stream:data", (d: { sid: string; data: ArrayBuffer }) => {
      if (d.sid !== "t1") return;
      out += Buffer.from(d.data).toString();
      const m = /host=([0-9a-f]{12})/.exec(out);
      if (m) resolve(m[1] as string);
    });
  });
  const ack = (await browser
    .timeout(30_000)
    .emitWithAck("exec:open", { id: containerId, sid: "t1", cols: 80, rows: 24 })) as {
    ok: boolean;
    error?: string;
  };
  assert.deepEqual(ack, { ok: true });
  // The shell's answer, not the terminal's echo of the typed line.
  browser.emit("stream:input", { sid: "t1", data: 'echo "host=$(hostname)"\n' });
  assert.equal(await answered, containerId.slice(0, 12));
  const ended = new Promise<{ exitCode?: number }>((resolve) =>
    browser.on("stream:end", (e: { sid: string; exitCode?: number }) => {
      if (e.sid === "t1") resolve(e);
    }),
  );
  browser.emit("stream:input", { sid: "t1", data: "exit 3\n" });
  assert.equal((await ended).exitCode, 3);
});

test("a role change and a logout made on A reach the user's page on B", async () => {
  const op = await operatorOnB("op-a@example.com");
  const demoted = await a.api("PATCH", `/api/v1/users/${op.id}`, { role: "viewer" });
  assert.equal(demoted.status, 200, JSON.stringify(demoted.body));
  await waitFor("the viewer's role on B's socket", async () =>
    /may not terminal\.open/.test(await op.terminal()) ? true : undefined,
  );
  const heard: string[] = [];
  op.socket.on("session:ended", (e: { reason: string }) => heard.push(e.reason));
  const cut = new Promise<string>((resolve) => op.socket.once("disconnect", resolve));
  const out = await fetch(`${a.url}/logout`, {
    method: "POST",
    headers: { cookie: op.cookie },
    redirect: "manual",
  });
  assert.equal(out.status, 303);
  assert.equal(await cut, "io server disconnect");
  assert.deepEqual(heard, ["logout"], "the page is told it was a logout, before the cut");
});

/** The host's status as B's API reads it. */
async function statusOnB(): Promise<string | undefined> {
  const hosts = await b.api<{ id: string; status: string }[]>("GET", "/api/v1/hosts");
  return hosts.body.find((h) => h.id === hostId)?.status;
}

test("the agent's connection moves from A to B (A sees the old one close late): the host never shows offline", async () => {
  const seen = new Set<string | undefined>();
  const pushed = new Set<string>();
  const onHost = (h: { id: string; status: string }): void => {
    if (h.id === hostId) pushed.add(h.status);
  };
  browser.on("host", onHost);
  let watching = true;
  const watch = (async () => {
    while (watching) {
      seen.add(await statusOnB());
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  // Resolves once A has closed its side of the old connection: B cut it when the agent
  // reconnected there (or A's heartbeat window ended it).
  await proxy.moveTo(b.url);
  // the agent answers, on B now (the proxy sends nothing to A any more)
  await waitFor("the agent to answer through B", async () => {
    const nets = await b.api<{ unreachable: unknown[] }>("GET", "/api/v1/networks");
    return nets.status === 200 && nets.body.unreachable.length === 0;
  });
  // A's handling of the old socket's close is done by now
  await new Promise((r) => setTimeout(r, 2000));
  watching = false;
  await watch;
  browser.off("host", onHost);
  assert.deepEqual([...seen], ["online"]);
  assert.ok(!pushed.has("offline"), `pushed: ${[...pushed].join()}`);
});

test("the agent killed while A is too busy to answer: B calls the host offline within seconds, containers unknown", async () => {
  // The agent is on B. A's event loop answers nothing (stopped): B must not need it.
  const pidA = a.webPid();
  assert.ok(pidA);
  process.kill(pidA, "SIGSTOP");
  try {
    const killed = Date.now();
    agent.kill("SIGKILL");
    await waitFor("B to call the host offline", async () => (await statusOnB()) === "offline");
    // not the silent-host sweep's minute, nor the Redis adapter's 5 s wait for A's answer
    const took = Date.now() - killed;
    assert.ok(took < 10_000, `offline after ${took} ms`);
  } finally {
    process.kill(pidA, "SIGCONT");
  }
  const c = await b.api<{ state: string }>("GET", `/api/v1/containers/${containerId}`);
  assert.equal(c.body.state, "unknown");
  const refused = await b.api<{ error: string }>("POST", `/api/v1/containers/${containerId}/stop`);
  assert.equal(refused.status, 409);
  assert.match(refused.body.error, /offline: start its agent/);
});

test("A stopped: a role change made on B reaches B's own pages at once (no answer from A needed)", async () => {
  const op = await operatorOnB("op-b@example.com");
  const pidA = a.webPid();
  assert.ok(pidA);
  process.kill(pidA, "SIGSTOP");
  try {
    const demoted = await b.api("PATCH", `/api/v1/users/${op.id}`, { role: "viewer" });
    assert.equal(demoted.status, 200, JSON.stringify(demoted.body));
    // asking every process for its sockets (fetchSockets) would wait 5 s for A, then fail
    await waitFor(
      "the viewer's role on B's socket",
      async () => (/may not terminal\.open/.test(await op.terminal()) ? true : undefined),
      15_000,
    );
  } finally {
    process.kill(pidA, "SIGCONT");
  }
});
