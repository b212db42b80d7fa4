// Several agents on one machine, as tests and demos run a fleet: each `corral-agent --runtime
// private` with its own --data and --name drives a corral-rtd of its own (state root, socket,
// cgroup parent, bridge, subnet, nftables table). Two of them joined to one web app: a
// container with a published port on each, both answering on 127.0.0.1; a port one runtime
// publishes is refused to the other, naming the holder; stopping one daemon leaves the other's
// containers alone.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { TEST_IMAGE_NAME } from "../../../packages/runtime/test/fixtures/images.ts";
import { freePort } from "../../../packages/runtime/test/fixtures/ports.ts";
import { startRuntime, type TestRuntime } from "../../../packages/runtime/test/fixtures/runtime.ts";
import { startWebStack, waitFor, type WebStack } from "./fixtures/stack.ts";

const AGENT_MAIN = fileURLToPath(new URL("../../agent/dist/main.js", import.meta.url));

interface Member {
  name: string;
  data: string;
  runtime: TestRuntime;
  agent: ChildProcess;
  hostId: string;
  port: number;
  containerId: string;
}

let web: WebStack;
const members: Member[] = [];

async function joinHost(name: string): Promise<Member> {
  const data = mkdtempSync(join(tmpdir(), `corral-one-machine-${name}-`));
  // The runtime fixture loads the test image into the root the agent's flag will use, and
  // removes its bridges, table and containers afterwards.
  const runtime = await startRuntime(`one-machine-${name}`, { root: join(data, "runtime") });
  const jt = await web.api<{ token: string; command: string }>("POST", "/api/v1/hosts/join-tokens");
  assert.equal(jt.status, 200, JSON.stringify(jt.body));
  // Only the flag says where the runtime is: no CORRAL_ROOT / CORRAL_RUN from the fixture.
  const env = { ...runtime.env };
  delete env.CORRAL_ROOT;
  delete env.CORRAL_RUN;
  const agent = spawn(
    process.execPath,
    [
      AGENT_MAIN,
      "--server",
      web.url,
      "--token",
      jt.body.token,
      "--name",
      name,
      "--data",
      data,
      "--runtime",
      "private",
    ],
    { env, stdio: ["ignore", "inherit", "inherit"] },
  );
  const hostId = await waitFor(`${name} online`, async () => {
    const hosts = await web.api<Array<{ id: string; name: string; status: string }>>(
      "GET",
      "/api/v1/hosts",
    );
    return hosts.body.find((h) => h.name === name && h.status === "online")?.id;
  });
  return { name, data, runtime, agent, hostId, port: 0, containerId: "" };
}

async function answer(port: number): Promise<string | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
    return (await r.text()).trim();
  } catch {
    return undefined;
  }
}

before(async () => {
  web = await startWebStack("one-machine");
  members.push(await joinHost("first"), await joinHost("second"));
});

after(async () => {
  for (const m of members) {
    m.agent.kill("SIGKILL");
    m.runtime.cleanup();
    rmSync(m.data, { recursive: true, force: true });
  }
  await web?.cleanup();
});

test("each agent's private runtime has its own socket, bridge, subnet and cgroup parent", () => {
  const [a, b] = members as [Member, Member];
  assert.notEqual(a.runtime.env.CORRAL_RUN, b.runtime.env.CORRAL_RUN);
  const bridge = (m: Member) => {
    assert.equal(m.runtime.rt("network", "ls").code, 0); // the default bridge exists once listed
    return JSON.parse(readFileSync(join(m.data, "runtime/network/bridge.json"), "utf8")) as {
      bridge: string;
      subnet: string;
    };
  };
  const [ba, bb] = [bridge(a), bridge(b)];
  assert.notEqual(ba.bridge, bb.bridge);
  assert.notEqual(ba.subnet, bb.subnet);
  assert.notEqual(a.runtime.cgroupParent, b.runtime.cgroupParent);
  assert.notEqual(a.runtime.cgroupParent, "corral", "not the host runtime's");
});

test("a container with a published port on each host answers on 127.0.0.1", async () => {
  for (const m of members) {
    m.port = await freePort();
    const r = await web.api<{ id: string; state: string }>("POST", "/api/v1/containers", {
      hostId: m.hostId,
      image: TEST_IMAGE_NAME,
      name: `web-${m.name}`,
      cmd: ["sh", "-c", `mkdir /www && echo ${m.name} > /www/index.html && httpd -f -p 80 -h /www`],
      ports: [{ containerPort: 80, hostPort: m.port }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    m.containerId = r.body.id;
  }
  for (const m of members) {
    assert.equal(await waitFor(`${m.name} answers`, () => answer(m.port)), m.name);
    // its cgroup is under its own runtime's parent, not the other's
    const other = members.find((o) => o !== m) as Member;
    assert.ok(existsSync(`/sys/fs/cgroup/memory/${m.runtime.cgroupParent}/${m.containerId}`));
    assert.ok(!existsSync(`/sys/fs/cgroup/memory/${other.runtime.cgroupParent}/${m.containerId}`));
  }
});

const LEFT_NOTHING = " (nothing was left behind: the container made for this run was removed)";

test("a port published by one runtime is refused to the other, naming who holds it", async () => {
  const [a, b] = members as [Member, Member];
  const r = await web.api<{ error: string }>("POST", "/api/v1/containers", {
    hostId: b.hostId,
    image: TEST_IMAGE_NAME,
    cmd: ["sleep", "60"],
    ports: [{ containerPort: 80, hostPort: a.port }],
  });
  // a start that fails (as Docker's) for a conflict: 409, the daemon's one line, verbatim; the
  // run made the container, so it takes it back (services/containers.ts) and says so
  assert.equal(r.status, 409, JSON.stringify(r.body));
  assert.equal(
    r.body.error,
    `Bind for 0.0.0.0:${a.port} failed: port is already allocated by another Corral runtime (corral-rtd pid ${a.runtime.daemonPid()}, state root ${join(a.data, "runtime")}): choose another host port${LEFT_NOTHING}`,
  );
  assert.equal(await answer(a.port), a.name, "still the first host's container");
});

test("conflicts on one host are 409 on REST and CONFLICT on tRPC, each saying what to do", async () => {
  const [a] = members as [Member];
  // the port a container of the same runtime holds: named as the user named it
  const trpc = await web.api<{ error: { message: string; data: { code: string } } }>(
    "POST",
    "/api/trpc/containers.create",
    {
      hostId: a.hostId,
      image: TEST_IMAGE_NAME,
      cmd: ["sleep", "60"],
      ports: [{ containerPort: 80, hostPort: a.port }],
    },
  );
  assert.equal(trpc.status, 409, JSON.stringify(trpc.body));
  assert.equal(trpc.body.error.data.code, "CONFLICT");
  assert.equal(
    trpc.body.error.message,
    `Bind for 0.0.0.0:${a.port} failed: port is already allocated by container web-${a.name} (${a.containerId.slice(0, 12)}) on this host: choose another host port${LEFT_NOTHING}`,
  );
  // a name in use, as Docker: 409
  const named = await web.api<{ error: string }>("POST", "/api/v1/containers", {
    hostId: a.hostId,
    image: TEST_IMAGE_NAME,
    name: `web-${a.name}`,
    cmd: ["sleep", "60"],
  });
  assert.equal(named.status, 409, JSON.stringify(named.body));
  assert.match(named.body.error, new RegExp(`name "/web-${a.name}" is already in use`));
  assert.equal(await answer(a.port), a.name, "still the first container");
});

test("stopping one agent's daemon leaves the other's containers alone", async () => {
  const [a, b] = members as [Member, Member];
  const pid = a.runtime.daemonPid();
  process.kill(pid, "SIGTERM");
  await waitFor("the first daemon gone", () => !existsSync(`/proc/${pid}`) || undefined);
  const inspect = JSON.parse(b.runtime.rt("inspect", b.containerId).out) as Array<{
    State: { Running: boolean };
  }>;
  assert.equal(inspect[0]?.State.Running, true);
  assert.equal(await answer(b.port), b.name);
  // and the first one's container outlives its daemon too (DNAT needs no process)
  assert.equal(await answer(a.port), a.name);
});
