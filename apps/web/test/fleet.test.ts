// The fleet backbone end to end: a real web server, a real agent, a private runtime, real
// busybox containers. Kill -9 of the agent, an exit while it is away, its return; a web
// restart; the REST API's answers to bad input.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { after, before, test } from "node:test";
import { TEST_IMAGE_NAME } from "../../../packages/runtime/test/fixtures/images.ts";
import { startStack, waitFor, type Stack } from "./fixtures/stack.ts";

interface HostRow {
  id: string;
  name: string;
  status: string;
}
interface ContainerRow {
  id: string;
  hostId: string;
  name: string;
  state: string;
  pid: number;
  exitCode: number | null;
  managed: boolean;
}

let stack: Stack;
let agent: ChildProcess;
let hostId: string;

before(async () => {
  stack = await startStack("fleet");
});
after(async () => {
  await stack?.cleanup();
});

async function host(): Promise<HostRow | undefined> {
  const r = await stack.api<HostRow[]>("GET", "/api/v1/hosts");
  assert.equal(r.status, 200);
  return r.body.find((h) => h.name === "test-host");
}

async function containers(): Promise<ContainerRow[]> {
  const r = await stack.api<ContainerRow[]>("GET", `/api/v1/containers?hostId=${hostId}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test("the API refuses callers without a token (401) and names the bad field (400)", async () => {
  assert.equal((await stack.api("GET", "/api/v1/health", undefined, null)).status, 200);
  for (const [method, path] of [
    ["GET", "/api/v1/hosts"],
    ["GET", "/api/v1/containers"],
    ["POST", "/api/v1/containers"],
    ["POST", "/api/v1/hosts/join-tokens"],
  ] as const) {
    const r = await stack.api<{ error: string }>(method, path, undefined, null);
    assert.equal(r.status, 401, `${method} ${path}`);
    assert.match(r.body.error, /Bearer/);
  }
  assert.equal((await stack.api("GET", "/api/v1/hosts", undefined, "cat_forged")).status, 401);
  // OpenAPI from the routes' own schemas
  const doc = await stack.api<{
    openapi: string;
    paths: Record<
      string,
      Record<
        string,
        { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }
      >
    >;
  }>("GET", "/api/v1/openapi.json", undefined, null);
  assert.equal(doc.status, 200);
  assert.equal(doc.body.openapi, "3.1.0");
  const create =
    doc.body.paths["/api/v1/containers"]?.post?.requestBody?.content["application/json"];
  assert.deepEqual(create?.schema.required?.sort(), ["hostId", "image"]);
  assert.ok(doc.body.paths["/api/v1/containers/{id}/logs"]?.get);
  const bad = await stack.api<{ error: string }>(
    "POST",
    "/api/v1/auth/login",
    { email: "admin@example.com", password: "wrong" },
    null,
  );
  assert.equal(bad.status, 401);
  const noEmail = await stack.api<{ error: string }>(
    "POST",
    "/api/v1/auth/login",
    { password: "x" },
    null,
  );
  assert.equal(noEmail.status, 400);
  assert.match(noEmail.body.error, /^email: /);
});

test("an agent joins with its token and its host goes online", async () => {
  const jt = await stack.api<{ token: string; command: string }>(
    "POST",
    "/api/v1/hosts/join-tokens",
  );
  assert.equal(jt.status, 200);
  assert.match(
    jt.body.command,
    new RegExp(`^npm run agent -- --server ${stack.url} --token ${jt.body.token}$`),
  );
  agent = stack.startAgent({ name: "test-host", token: jt.body.token });
  const h = await waitFor("host online", async () => {
    const h = await host();
    return h?.status === "online" && h;
  });
  hostId = h.id;
  // tRPC calls the same service: the same host, and 401 without a token
  const trpc = await stack.api<{ result: { data: HostRow[] } }>("GET", "/api/trpc/hosts.list");
  assert.equal(trpc.status, 200);
  assert.deepEqual(
    trpc.body.result.data.map((x) => [x.id, x.status]),
    [[hostId, "online"]],
  );
  assert.equal((await stack.api("GET", "/api/trpc/hosts.list", undefined, null)).status, 401);
  const badTrpc = await stack.api<{ error: { message: string } }>(
    "POST",
    "/api/trpc/containers.create",
    { hostId, image: "busybox", ports: [{ containerPort: 70000 }] },
  );
  assert.equal(badTrpc.status, 400);
  assert.match(badTrpc.body.error.message, /^ports\.0\.containerPort: /);
  // The token was for one join only.
  const again = await stack.api<{ error: string }>("POST", "/api/v1/agents/join", {
    token: jt.body.token,
    name: "intruder",
    facts: {
      hostname: "x",
      kernel: "",
      os: "",
      arch: "",
      cpus: 1,
      memoryBytes: 1,
      diskBytes: 0,
      diskFreeBytes: 0,
      cgroups: "v1",
      runtimeVersion: "",
      agentVersion: "",
    },
  });
  assert.equal(again.status, 401);
});

test("bad container requests are refused with the field named, nothing stored", async () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ hostId, image: "" }, /^image: an image is required/],
    [{ image: TEST_IMAGE_NAME }, /^hostId: /],
    [
      { hostId, image: TEST_IMAGE_NAME, ports: [{ containerPort: 0 }] },
      /^ports\.0\.containerPort: /,
    ],
    [
      { hostId, image: TEST_IMAGE_NAME, env: ["NOEQUALS"] },
      /^env\.0: environment entries look like KEY=value/,
    ],
    [{ hostId, image: TEST_IMAGE_NAME, name: "../x" }, /^name: /],
    [{ hostId, image: TEST_IMAGE_NAME, memory: "64m" }, /memory/],
  ];
  for (const [body, message] of cases) {
    const r = await stack.api<{ error: string }>("POST", "/api/v1/containers", body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.body.error, message);
  }
  const unknownHost = await stack.api("POST", "/api/v1/containers", {
    hostId: "nope",
    image: TEST_IMAGE_NAME,
  });
  assert.equal(unknownHost.status, 404);
  assert.equal((await stack.api("GET", "/api/v1/containers/nope")).status, 404);
  assert.equal((await stack.api("POST", "/api/v1/containers/nope/start")).status, 404);
  assert.equal((await containers()).length, 0);
});

let keep: ContainerRow;
let quitter: ContainerRow;

test("a container created through the API runs on the host; one made with corral-rt shows too", async () => {
  const r = await stack.api<ContainerRow>("POST", "/api/v1/containers", {
    hostId,
    image: TEST_IMAGE_NAME,
    name: "keep",
    cmd: ["sh", "-c", "echo hello from keep; exec sleep 1000"],
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  keep = r.body;
  assert.equal(keep.state, "running");
  assert.equal(keep.managed, true);
  assert.ok(alive(keep.pid));
  const inspect = JSON.parse(stack.runtime.rt("inspect", keep.id).out) as Array<{
    State: { Pid: number };
  }>;
  assert.equal(inspect[0]!.State.Pid, keep.pid);

  // Waits for a file, then exits 3: the test decides when (while the agent is down).
  const q = await stack.api<ContainerRow>("POST", "/api/v1/containers", {
    hostId,
    image: TEST_IMAGE_NAME,
    name: "quitter",
    cmd: ["sh", "-c", "while [ ! -f /tmp/go ]; do sleep 0.05; done; exit 3"],
  });
  assert.equal(q.status, 200, JSON.stringify(q.body));
  quitter = q.body;

  const outside = stack.runtime.rt(
    "run",
    "-d",
    "--name",
    "outside",
    TEST_IMAGE_NAME,
    "sleep",
    "1000",
  );
  assert.equal(outside.code, 0, outside.err);
  const row = await waitFor("the outside container", async () =>
    (await containers()).find((c) => c.name === "outside" && c.state === "running"),
  );
  assert.equal(row.managed, false);

  const logs = await stack.api<string>("GET", `/api/v1/containers/${keep.id}/logs?tail=10`);
  assert.equal(logs.status, 200);
  assert.match(logs.body, /hello from keep/);
  // Prometheus text under cAdvisor's names, once the agent's 1 Hz stats arrived.
  assert.equal((await stack.api("GET", "/metrics", undefined, null)).status, 401);
  const metrics = await waitFor("keep's memory in /metrics", async () => {
    const m = await stack.api<string>("GET", "/metrics");
    return (
      m.status === 200 &&
      /^container_memory_usage_bytes\{[^}]*name="keep"[^}]*\} [1-9]/m.test(m.body) &&
      m.body
    );
  });
  assert.match(
    metrics,
    /^container_cpu_usage_seconds_total\{id="\/corral\/[0-9a-f]{64}",name="keep",image="corral-test\/busybox:latest",host="test-host",host_id="[^"]+"\} [0-9.e-]+$/m,
  );
  assert.match(metrics, /^corral_host_up\{host="test-host",host_id="[^"]+"\} 1$/m);
  const badTail = await stack.api<{ error: string }>(
    "GET",
    `/api/v1/containers/${keep.id}/logs?tail=x`,
  );
  assert.equal(badTail.status, 400);
  assert.match(badTail.body.error, /^tail: /);
});

test("kill -9 of the agent: host offline, containers keep running; an exit meanwhile is recorded with its code", async () => {
  agent.kill("SIGKILL");
  await waitFor("host offline", async () => (await host())?.status === "offline");
  assert.ok(alive(keep.pid), "the container outlives its agent");

  // Offline: its containers show as unknown, and commands are refused with 409.
  const c = await stack.api<ContainerRow>("GET", `/api/v1/containers/${keep.id}`);
  assert.equal(c.body.state, "unknown");
  const stop = await stack.api<{ error: string }>("POST", `/api/v1/containers/${keep.id}/stop`);
  assert.equal(stop.status, 409);
  assert.match(stop.body.error, /offline/);

  assert.equal(stack.runtime.rt("exec", quitter.id, "touch", "/tmp/go").code, 0);
  await waitFor("quitter exits", async () => {
    const s = JSON.parse(stack.runtime.rt("inspect", quitter.id).out) as Array<{
      State: { Status: string };
    }>;
    return s[0]!.State.Status === "exited";
  });

  agent = stack.startAgent({ name: "test-host" }); // its credential, no token this time
  await waitFor("host online again", async () => (await host())?.status === "online");
  const after = await waitFor("the exit recorded", async () => {
    const all = await containers();
    return all.find((x) => x.id === quitter.id)?.state === "exited" && all;
  });
  assert.equal(after.find((x) => x.id === quitter.id)!.exitCode, 3);
  assert.deepEqual(after.map((x) => x.name).sort(), ["keep", "outside", "quitter"]);
  const k = after.find((x) => x.id === keep.id)!;
  assert.equal(k.state, "running");
  assert.equal(k.pid, keep.pid);
  const hosts = (await stack.api<HostRow[]>("GET", "/api/v1/hosts")).body;
  assert.equal(hosts.filter((h) => h.name === "test-host").length, 1, "no duplicate host");
});

test("a frozen agent (no close, no heartbeat) is offline after the heartbeat window, online once thawed", async () => {
  agent.kill("SIGSTOP");
  try {
    // Its TCP connection stays open: only the missing heartbeats (15 s) can tell.
    await waitFor(
      "host offline without a heartbeat",
      async () => (await host())?.status === "offline",
    );
  } finally {
    agent.kill("SIGCONT");
  }
  await waitFor("host online after thawing", async () => (await host())?.status === "online");
});

test("a web restart: the agent comes back by itself", async () => {
  await stack.stopWeb("SIGKILL");
  await stack.startWeb();
  await waitFor(
    "host online after the web restart",
    async () => (await host())?.status === "online",
  );
  const stop = await stack.api<ContainerRow>("POST", `/api/v1/containers/${keep.id}/stop`);
  assert.equal(stop.status, 200, JSON.stringify(stop.body));
  assert.equal(stop.body.state, "exited");
  await waitFor("a stopped container leaves /metrics", async () => {
    const m = await stack.api<string>("GET", "/metrics");
    return m.status === 200 && !m.body.includes('name="keep"');
  });
  const rm = await stack.api("DELETE", `/api/v1/containers/${keep.id}`);
  assert.equal(rm.status, 200);
  assert.equal((await stack.api("GET", `/api/v1/containers/${keep.id}`)).status, 404);
  assert.notEqual(stack.runtime.rt("inspect", keep.id).code, 0, "removed on the host too");
});
