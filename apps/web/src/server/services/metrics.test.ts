// /metrics from a real AgentHub on a real socket.io server, fed by simulated agents speaking the
// real protocol, and a real database (the committed migrations): the series Prometheus reads.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { SIM_FACTS, SimAgent } from "../../../test/fixtures/sim-agent.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/fixtures/database.ts";
import { startSocketServer, type TestSocketServer } from "../../../test/fixtures/socket-server.ts";
import { waitFor } from "../../../../../packages/runtime/test/fixtures/wait.ts";
import { createDb, type Db } from "../db.ts";
import { createServices, type Services } from "./index.ts";

let database: TestDatabase;
let db: Db;
let services: Services;
let server: TestSocketServer;
let url = "";
const agents: SimAgent[] = [];
const actor = { userId: null, ip: "127.0.0.1" };

before(async () => {
  database = await createTestDatabase("metrics");
  db = createDb(database.url);
  services = createServices(db, () => undefined);
  server = await startSocketServer((io) => services.hub.attach(io));
  url = server.url;
});
after(async () => {
  for (const a of agents) a.close();
  services?.hub.close();
  await server?.close();
  await db?.$disconnect();
  database?.cleanup();
});

/** A simulated host with `containers` running, sending 1 Hz stats; `rename` them first. */
async function join(
  name: string,
  containers: number,
  rename: (i: number) => string = (i) => `c${i}`,
): Promise<{ agent: SimAgent; hostId: string }> {
  const { token } = await services.joinTokens.create(url, actor);
  const cred = await services.hosts.join({ token, name, facts: SIM_FACTS });
  const agent = new SimAgent(url, cred, { containers, stats: true });
  agent.containers.forEach((c, i) => (c.name = rename(i))); // before its snapshot is sent
  agents.push(agent);
  return { agent, hostId: cred.hostId };
}

/** The sample lines of one metric family, without HELP/TYPE. */
const lines = (text: string, name: string): string[] =>
  text.split("\n").filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

test("every running container's last sample, cAdvisor's names, labelled with its host", async () => {
  const { agent: a, hostId: hostA } = await join("metrics-a", 2);
  const { agent: b } = await join("metrics-b", 1);
  const text = await waitFor("every container's stats", async () => {
    const t = await services.metrics.render();
    return lines(t, "container_memory_usage_bytes").length === 3 && t;
  });
  assert.match(
    text,
    /^# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds\.\n# TYPE container_cpu_usage_seconds_total counter$/m,
  );
  assert.match(text, /^# TYPE container_memory_usage_bytes gauge$/m);
  const [c0, c1] = a.containers as [(typeof a.containers)[0], (typeof a.containers)[0]];
  const labels = `id="/corral/${c1.id}",name="c1",image="busybox",host="metrics-a",host_id="${hostA}"`;
  // the sim's samples: memory 8e6 + index, working set 6e6 + index, 1 process
  assert.ok(
    lines(text, "container_memory_usage_bytes").includes(
      `container_memory_usage_bytes{${labels}} 8000001`,
    ),
  );
  assert.ok(
    lines(text, "container_memory_working_set_bytes").includes(
      `container_memory_working_set_bytes{${labels}} 6000001`,
    ),
  );
  assert.ok(lines(text, "container_processes").includes(`container_processes{${labels}} 1`));
  assert.ok(
    lines(text, "container_network_receive_bytes_total").includes(
      `container_network_receive_bytes_total{${labels}} 1000`,
    ),
  );
  const cpu = lines(text, "container_cpu_usage_seconds_total").find((l) => l.includes(c0.id));
  assert.match(cpu ?? "", /\} [0-9.e+]+$/);
  for (const name of ["metrics-a", "metrics-b"])
    assert.match(text, new RegExp(`^corral_host_up\\{host="${name}",host_id="[^"]+"\\} 1$`, "m"));
  // the web process's own load (prom-client's default metrics)
  assert.match(text, /^process_resident_memory_bytes [1-9]/m);
  assert.match(text, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m);

  // a container that stopped leaves; a host whose agent went away is down (0), not gone
  a.die(0, 3);
  b.close();
  const later = await waitFor("the stopped container gone and host b down", async () => {
    const t = await services.metrics.render();
    return (
      !t.includes(c0.id) && /^corral_host_up\{host="metrics-b",host_id="[^"]+"\} 0$/m.test(t) && t
    );
  });
  assert.deepEqual(
    lines(later, "container_memory_usage_bytes").map((l) => l.split("{")[1]?.split(" ")[0]),
    [`${labels}}`],
    "only a's running container: b's samples went with its agent",
  );
});

test("a label value is escaped as the text format asks", async () => {
  // a name the runtime would refuse, to see the escaping: quote, backslash, newline
  const { agent } = await join("metrics-c", 1, () => 'we"b\\1\n');
  const id = (agent.containers[0] as { id: string }).id;
  const text = await waitFor("c's stats", async () => {
    const t = await services.metrics.render();
    return t.includes(id) && t;
  });
  assert.match(text, /name="we\\"b\\\\1\\n"/);
});
