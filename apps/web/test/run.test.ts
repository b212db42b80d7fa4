// A run (create + start in one call: the dashboard's form through tRPC, REST's POST
// /api/v1/containers) is all or nothing against a real agent and runtime: a start refused for a
// host port already taken leaves no container behind, on the host or in the list, so the same
// name, with another port, runs at once. Create, then start, in two calls keeps what the create
// made, as Docker's API does.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { after, before, test } from "node:test";
import { TEST_IMAGE_NAME } from "../../../packages/runtime/test/fixtures/images.ts";
import { freePort } from "../../../packages/runtime/test/fixtures/ports.ts";
import { startStack, waitFor, type Stack } from "./fixtures/stack.ts";

interface ContainerRow {
  id: string;
  name: string;
  state: string;
  ports: Array<{ hostPort: number; containerPort: number }>;
}

const LEFT_NOTHING = " (nothing was left behind: the container made for this run was removed)";

let stack: Stack;
let hostId: string;

before(async () => {
  stack = await startStack("run");
  const jt = await stack.api<{ token: string }>("POST", "/api/v1/hosts/join-tokens");
  stack.startAgent({ name: "run-host", token: jt.body.token });
  hostId = await waitFor("host online", async () => {
    const hosts = await stack.api<Array<{ id: string; status: string }>>("GET", "/api/v1/hosts");
    return hosts.body.find((h) => h.status === "online")?.id;
  });
});
after(async () => {
  await stack?.cleanup();
});

const spec = (name: string, hostPort: number, extra: object = {}) => ({
  hostId,
  image: TEST_IMAGE_NAME,
  name,
  cmd: ["sleep", "3600"],
  ports: [{ containerPort: 80, hostPort }],
  ...extra,
});

/** The form's call: tRPC's containers.create (start defaults to true, as the form's box). */
async function runThroughForm(
  input: object,
): Promise<{ status: number; view?: ContainerRow; error?: string }> {
  const r = await stack.api<{ result?: { data: ContainerRow }; error?: { message: string } }>(
    "POST",
    "/api/trpc/containers.create",
    input,
  );
  return { status: r.status, view: r.body.result?.data, error: r.body.error?.message };
}

async function listed(): Promise<ContainerRow[]> {
  const r = await stack.api<ContainerRow[]>("GET", `/api/v1/containers?hostId=${hostId}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

/** Names of every container the runtime itself holds (running or not). */
const onHost = () =>
  stack.runtime.rt("ps", "-a", "--format", "{{.Names}}").out.split("\n").filter(Boolean);

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((s) => s.destroy());
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

test("the form's run: a port another container holds is refused, nothing stays, the fixed run works", async () => {
  const port = await freePort();
  const holder = await stack.api<ContainerRow>("POST", "/api/v1/containers", spec("web-1", port));
  assert.equal(holder.status, 200, JSON.stringify(holder.body));

  const refused = await runThroughForm(spec("web-2", port));
  assert.equal(refused.status, 409, JSON.stringify(refused));
  assert.equal(
    refused.error,
    `Bind for 0.0.0.0:${port} failed: port is already allocated by container web-1 (${holder.body.id.slice(0, 12)}) on this host: choose another host port${LEFT_NOTHING}`,
  );
  assert.deepEqual(
    (await listed()).map((c) => c.name),
    ["web-1"],
  );
  assert.deepEqual(onHost(), ["web-1"], "the host holds no web-2 either");
  const audit = await stack.api<{
    entries: Array<{ action: string; detail: { reason?: string } }>;
  }>("GET", "/api/v1/audit?action=container.");
  const [removal, creation] = audit.body.entries;
  assert.equal(creation?.action, "container.create");
  assert.equal(removal?.action, "container.remove", "the audit log says what was made and unmade");
  assert.match(removal?.detail.reason ?? "", /^its run failed to start: Bind for 0\.0\.0\.0:/);

  // The user picks another host port and sends the same form again: same name, it runs.
  const other = await freePort();
  const ran = await runThroughForm(spec("web-2", other));
  assert.equal(ran.status, 200, JSON.stringify(ran));
  assert.equal(ran.view?.name, "web-2");
  assert.equal(ran.view?.state, "running");
  assert.deepEqual(
    ran.view?.ports.map((p) => p.hostPort),
    [other],
  );
  assert.deepEqual(onHost().sort(), ["web-1", "web-2"]);
});

test("REST's run: a port a listener on 127.0.0.1 holds is refused naming it, nothing stays", async () => {
  const port = await freePort();
  const listener = await listen(port);
  try {
    const refused = await stack.api<{ error: string }>(
      "POST",
      "/api/v1/containers",
      spec("api-1", port),
    );
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(
      refused.body.error,
      `Bind for 0.0.0.0:${port} failed: port is already allocated by node (pid ${process.pid}): choose another host port${LEFT_NOTHING}`,
    );
    assert.ok(!(await listed()).some((c) => c.name === "api-1"));
    assert.ok(!onHost().includes("api-1"));
  } finally {
    await new Promise((resolve) => listener.close(resolve));
  }
  // The port is free now: the same request runs.
  const ran = await stack.api<ContainerRow>("POST", "/api/v1/containers", spec("api-1", port));
  assert.equal(ran.status, 200, JSON.stringify(ran.body));
  assert.equal(ran.body.state, "running");
});

test("create, then start, in two calls: a failed start keeps the container, as Docker's API", async () => {
  const port = await freePort();
  const listener = await listen(port);
  try {
    const made = await stack.api<ContainerRow>(
      "POST",
      "/api/v1/containers",
      spec("two-step", port, { start: false }),
    );
    assert.equal(made.status, 200, JSON.stringify(made.body));
    assert.equal(made.body.state, "created");
    const start = await stack.api<{ error: string }>(
      "POST",
      `/api/v1/containers/${made.body.id}/start`,
    );
    assert.equal(start.status, 409, JSON.stringify(start.body));
    assert.match(start.body.error, /: choose another host port$/);
    const row = (await listed()).find((c) => c.name === "two-step");
    assert.equal(row?.state, "created");
    assert.ok(onHost().includes("two-step"));
  } finally {
    await new Promise((resolve) => listener.close(resolve));
  }
});
