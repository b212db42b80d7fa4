// 200 simulated agents speaking the real protocol (join, snapshot, heartbeat; no containers
// behind them) against one web process: all online, then a web restart, and every one of
// them reconnects by itself at once. Durations are reported, not asserted (see bench/).
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { io, type Socket } from "socket.io-client";
import {
  AGENT_NAMESPACE,
  HEARTBEAT_INTERVAL_MS,
  type ContainerInfo,
  type HostFacts,
  type JoinResponse,
  type Snapshot,
} from "@corral/protocol";
import { startWebStack, waitFor, type WebStack } from "./fixtures/stack.ts";

const AGENTS = Number(process.env.STORM_AGENTS ?? 200);
const CONTAINERS_PER_HOST = 5;

const facts: HostFacts = {
  hostname: "sim",
  kernel: "6.1",
  os: "Linux",
  arch: "x64",
  cpus: 4,
  memoryBytes: 8e9,
  diskBytes: 1e11,
  diskFreeBytes: 5e10,
  cgroups: "v2",
  runtimeVersion: "0.1.0",
  agentVersion: "sim",
};

function container(i: number): ContainerInfo {
  return {
    id: randomBytes(32).toString("hex"),
    name: `c${i}`,
    image: "busybox",
    imageId: "sha256:" + "0".repeat(64),
    command: ["sleep", "1d"],
    state: "running",
    pid: 1000 + i,
    exitCode: 0,
    oomKilled: false,
    error: "",
    restartCount: 0,
    restartPolicy: "no",
    created: new Date().toISOString(),
    startedAt: new Date().toISOString(),
    finishedAt: "0001-01-01T00:00:00Z",
    labels: {},
    ports: [],
    memoryLimitBytes: 0,
    cpus: 0,
  };
}

/** One simulated agent: the real messages, a fixed set of containers. */
class SimAgent {
  readonly socket: Socket;
  private seq = 0;
  private readonly epoch = randomUUID();
  private readonly containers = Array.from({ length: CONTAINERS_PER_HOST }, (_, i) => container(i));
  private readonly beat: NodeJS.Timeout;

  constructor(url: string, cred: JoinResponse) {
    this.socket = io(new URL(AGENT_NAMESPACE, url).href, {
      auth: { ...cred, agentVersion: "sim" },
      transports: ["websocket"],
      reconnectionDelay: 1000,
      reconnectionDelayMax: 15000,
      randomizationFactor: 0.5,
    });
    this.socket.on("connect", () => {
      const s: Snapshot = {
        version: { epoch: this.epoch, seq: ++this.seq },
        facts,
        containers: this.containers,
        images: [],
      };
      this.socket.emit("snapshot", s);
    });
    // As the real agent: a refusal by the server's middleware (e.g. overloaded) is retried.
    this.socket.on("connect_error", () => {
      if (!this.socket.active) setTimeout(() => this.socket.connect(), 1000 + Math.random() * 4000);
    });
    this.socket.on("command", (_c: unknown, ack: (r: unknown) => void) =>
      ack({ ok: true, result: {} }),
    );
    this.beat = setInterval(
      () => this.socket.emit("heartbeat", { time: new Date().toISOString() }),
      HEARTBEAT_INTERVAL_MS,
    );
  }

  close(): void {
    clearInterval(this.beat);
    this.socket.close();
  }
}

let stack: WebStack;
const agents: SimAgent[] = [];

before(async () => {
  stack = await startWebStack("storm");
});
after(async () => {
  for (const a of agents) a.close();
  await stack?.cleanup();
});

async function onlineCount(): Promise<number> {
  const r = await stack.api<Array<{ status: string }>>("GET", "/api/v1/hosts");
  assert.equal(r.status, 200);
  return r.body.filter((h) => h.status === "online").length;
}

test(`${AGENTS} agents join and come online`, async (t) => {
  const started = Date.now();
  const join = async (i: number): Promise<void> => {
    const jt = await stack.api<{ token: string }>("POST", "/api/v1/hosts/join-tokens");
    const joined = await stack.api<JoinResponse>(
      "POST",
      "/api/v1/agents/join",
      { token: jt.body.token, name: `sim-${i}`, facts },
      null,
    );
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    agents.push(new SimAgent(stack.url, joined.body));
  };
  for (let i = 0; i < AGENTS; i += 10) {
    await Promise.all(Array.from({ length: Math.min(10, AGENTS - i) }, (_, j) => join(i + j)));
  }
  await waitFor(`${AGENTS} hosts online`, async () => (await onlineCount()) === AGENTS, 120000);
  t.diagnostic(`${AGENTS} joined and online in ${Date.now() - started} ms`);
});

test("after a web restart every agent reconnects by itself, with no duplicates", async (t) => {
  await stack.stopWeb("SIGKILL");
  const restarted = Date.now();
  await stack.startWeb();
  await waitFor(
    "every agent reconnected",
    async () => agents.every((a) => a.socket.connected),
    120000,
  );
  t.diagnostic(
    `all ${AGENTS} sockets connected ${Date.now() - restarted} ms after the restart began`,
  );
  await waitFor("every host back online", async () => (await onlineCount()) === AGENTS, 120000);
  t.diagnostic(`all ${AGENTS} online ${Date.now() - restarted} ms after the restart began`);
  const hosts = await stack.api<unknown[]>("GET", "/api/v1/hosts");
  assert.equal(hosts.body.length, AGENTS);
  const containers = await waitFor("every snapshot applied", async () => {
    const r = await stack.api<unknown[]>("GET", "/api/v1/containers");
    return r.body.length === AGENTS * CONTAINERS_PER_HOST && r.body;
  });
  assert.equal(containers.length, AGENTS * CONTAINERS_PER_HOST);
});
