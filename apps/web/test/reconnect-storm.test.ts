// 200 simulated agents speaking the real protocol (join, snapshot, heartbeat; no containers
// behind them) against one web process: all online, then a web restart, and every one of
// them reconnects by itself at once. Durations are reported, not asserted (see bench/).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { JoinResponse } from "@corral/protocol";
import { SIM_FACTS as facts, SimAgent } from "./fixtures/sim-agent.ts";
import { startWebStack, waitFor, type WebStack } from "./fixtures/stack.ts";

const AGENTS = Number(process.env.STORM_AGENTS ?? 200);
const CONTAINERS_PER_HOST = 5;

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
    agents.push(new SimAgent(stack.url, joined.body, { containers: CONTAINERS_PER_HOST }));
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
