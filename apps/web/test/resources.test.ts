// Images, networks, volumes and events through the REST API against a real agent and runtime:
// image removal refused while a container uses it (force to override), prune, a refused pull
// keeping its status (the NDJSON pull from a registry is in e2e/resources.test.ts); networks and volumes created, refused while in use,
// removed, pruned; the event log paged and filtered; bad input 400 naming the field; an
// offline host 409 (and named, not fatal, in the fleet-wide lists).
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { after, before, test } from "node:test";
import { TEST_IMAGE_NAME } from "../../../packages/runtime/test/fixtures/images.ts";
import { startStack, waitFor, type Stack } from "./fixtures/stack.ts";

interface ImageRow {
  hostId: string;
  id: string;
  repoTags: string[];
  usedBy: string[];
}
interface FleetList<T> {
  items: T[];
  unreachable: Array<{ hostId: string; name: string; error: string }>;
}
interface NetworkRow {
  hostId: string;
  name: string;
  subnet: string;
  containerNames: string[];
}
interface VolumeRow {
  hostId: string;
  name: string;
  usedBy: string[];
}
interface EventRow {
  id: number;
  containerId: string | null;
  containerName: string | null;
  type: string;
  exitCode: number | null;
}

let stack: Stack;
let agent: ChildProcess;
let hostId: string;

before(async () => {
  stack = await startStack("resources");
  const jt = await stack.api<{ token: string }>("POST", "/api/v1/hosts/join-tokens");
  agent = stack.startAgent({ name: "res-host", token: jt.body.token });
  hostId = await waitFor("host online", async () => {
    const hosts = await stack.api<Array<{ id: string; status: string }>>("GET", "/api/v1/hosts");
    return hosts.body.find((h) => h.status === "online")?.id;
  });
});
after(async () => {
  await stack?.cleanup();
});

async function ok<T>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await stack.api<T>(method, path, body);
  assert.equal(r.status, 200, `${method} ${path}: ${JSON.stringify(r.body)}`);
  return r.body;
}

async function run(name: string, extra: object = {}): Promise<string> {
  const c = await ok<{ id: string }>("POST", "/api/v1/containers", {
    hostId,
    image: TEST_IMAGE_NAME,
    name,
    cmd: ["sleep", "3600"],
    ...extra,
  });
  return c.id;
}

const images = () => ok<ImageRow[]>("GET", `/api/v1/images?hostId=${hostId}`);

test("bad input is a 400 naming the field; nothing reaches the host", async () => {
  const cases: Array<[string, string, unknown, RegExp]> = [
    ["DELETE", "/api/v1/images/busybox", undefined, /^hostId: /],
    ["DELETE", `/api/v1/images/busybox?hostId=${hostId}&force=maybe`, undefined, /^force: /],
    ["POST", "/api/v1/images/prune", {}, /^hostId: /],
    ["POST", "/api/v1/networks", { hostId, name: "no spaces" }, /^name: /],
    ["POST", "/api/v1/networks", { hostId, name: "n1", subnet: "10.0.0.0" }, /^subnet: /],
    ["POST", "/api/v1/networks", { hostId, name: "n1", sbnet: "10.0.0.0/24" }, /sbnet/],
    ["DELETE", "/api/v1/networks/n1", undefined, /^hostId: /],
    ["POST", "/api/v1/volumes", { hostId, name: "../etc" }, /^name: /],
    ["POST", "/api/v1/volumes/prune", {}, /^hostId: /],
    ["GET", "/api/v1/events?limit=0", undefined, /^limit: /],
    ["GET", "/api/v1/events?before=x", undefined, /^before: /],
    ["GET", "/api/v1/events?type=exploded", undefined, /^type: .*host-offline/],
  ];
  for (const [method, path, body, error] of cases) {
    const r = await stack.api<{ error: string }>(method, path, body);
    assert.equal(r.status, 400, `${method} ${path}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error, error, `${method} ${path}`);
  }
  const nets = await ok<FleetList<NetworkRow>>("GET", `/api/v1/networks?hostId=${hostId}`);
  assert.ok(!nets.items.some((n) => n.name === "n1"), "nothing was created");
  assert.equal((await stack.api("GET", "/api/v1/networks?hostId=nope")).status, 404);
});

test("networks: create with a subnet, refused while a container uses it, then removed", async () => {
  const made = await ok<{ name: string }>("POST", "/api/v1/networks", {
    hostId,
    name: "backend",
    subnet: "10.231.7.0/24",
  });
  assert.equal(made.name, "backend");
  const id = await run("net-user", { network: "backend" });
  const listed = await waitFor("backend with net-user", async () => {
    const l = await ok<FleetList<NetworkRow>>("GET", `/api/v1/networks?hostId=${hostId}`);
    return l.items.find((n) => n.name === "backend" && n.containerNames.length);
  });
  assert.equal(listed.subnet, "10.231.7.0/24");
  assert.deepEqual(listed.containerNames, ["net-user"]);
  const refused = await stack.api<{ error: string }>(
    "DELETE",
    `/api/v1/networks/backend?hostId=${hostId}`,
  );
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.match(refused.body.error, /active endpoints.*net-user/);
  await ok("DELETE", `/api/v1/containers/${id}?force=1`);
  await ok("DELETE", `/api/v1/networks/backend?hostId=${hostId}`);
  const after = await ok<FleetList<NetworkRow>>("GET", "/api/v1/networks");
  assert.ok(!after.items.some((n) => n.name === "backend"));
  assert.ok(after.items.some((n) => n.name === "bridge" && n.hostId === hostId));
  // tRPC reads through the same service
  const trpc = await ok<{ result: { data: FleetList<NetworkRow> } }>(
    "GET",
    `/api/trpc/networks.list?input=${encodeURIComponent(JSON.stringify({ hostId }))}`,
  );
  assert.ok(trpc.result.data.items.some((n) => n.name === "bridge"));
});

test("volumes: create, used by a container (remove refused), prune keeps the used one", async () => {
  await ok("POST", "/api/v1/volumes", { hostId, name: "data" });
  await ok("POST", "/api/v1/volumes", { hostId, name: "scratch" });
  const id = await run("vol-user", { volumes: [{ source: "data", target: "/data" }] });
  const vols = await ok<FleetList<VolumeRow>>("GET", `/api/v1/volumes?hostId=${hostId}`);
  assert.deepEqual(vols.items.find((v) => v.name === "data")?.usedBy, ["vol-user"]);
  assert.deepEqual(vols.items.find((v) => v.name === "scratch")?.usedBy, []);
  const refused = await stack.api<{ error: string }>(
    "DELETE",
    `/api/v1/volumes/data?hostId=${hostId}`,
  );
  assert.equal(refused.status, 409);
  assert.match(refused.body.error, /in use/);
  const pruned = await ok<{ removed: string[] }>("POST", "/api/v1/volumes/prune", { hostId });
  assert.ok(pruned.removed.includes("scratch"), JSON.stringify(pruned));
  assert.ok(!pruned.removed.includes("data"));
  await ok("DELETE", `/api/v1/containers/${id}?force=1`);
  await ok("DELETE", `/api/v1/volumes/data?hostId=${hostId}`);
  const left = await ok<FleetList<VolumeRow>>("GET", `/api/v1/volumes?hostId=${hostId}`);
  assert.deepEqual(
    left.items.filter((v) => ["data", "scratch"].includes(v.name)),
    [],
  );
});

test("events: newest first, paged by id, filtered by container and type", async () => {
  const id = await run("ev-one");
  await ok("POST", `/api/v1/containers/${id}/stop`);
  await ok("POST", `/api/v1/containers/${id}/start`);
  const mine = await waitFor("ev-one's create, start, die, start", async () => {
    const r = await ok<{ events: EventRow[] }>("GET", `/api/v1/events?containerId=${id}`);
    return r.events.filter((e) => e.type === "start").length >= 2 && r.events;
  });
  assert.ok(mine.every((e) => e.containerId === id && e.containerName === "ev-one"));
  const ids = mine.map((e) => e.id);
  assert.deepEqual(
    ids,
    [...ids].sort((a, b) => b - a),
    "newest first",
  );
  // A 12-character prefix works as a filter, as the ids people copy.
  const short = await ok<{ events: EventRow[] }>(
    "GET",
    `/api/v1/events?containerId=${id.slice(0, 12)}&type=start`,
  );
  assert.ok(short.events.length >= 2 && short.events.every((e) => e.type === "start"));

  // Pages of 2 walk the whole log without a repeat or a gap.
  const all = await ok<{ events: EventRow[] }>("GET", "/api/v1/events?limit=500");
  const walked: number[] = [];
  let before: number | null = null;
  do {
    const page: { events: EventRow[]; nextBefore: number | null } = await ok(
      "GET",
      `/api/v1/events?limit=2${before ? `&before=${before}` : ""}`,
    );
    assert.ok(page.events.length <= 2);
    walked.push(...page.events.map((e) => e.id));
    before = page.nextBefore;
  } while (before !== null);
  assert.deepEqual(
    walked,
    all.events.map((e) => e.id),
  );
  assert.ok(walked.length >= 5);
});

test("images: used-by names, removal refused while used (force overrides), prune (last: it untags the test image)", async () => {
  const busy = await run("img-user");
  const base = await waitFor("the test image used by img-user", async () =>
    (await images()).find(
      (i) => i.repoTags.includes(TEST_IMAGE_NAME) && i.usedBy.includes("img-user"),
    ),
  );
  // every container of the file so far was made from it, and no other image is used
  assert.deepEqual(base.usedBy.sort(), ["ev-one", "img-user"]);
  assert.ok((await images()).every((i) => i.id === base.id || i.usedBy.length === 0));
  const refused = await stack.api<{ error: string }>(
    "DELETE",
    `/api/v1/images/${encodeURIComponent(TEST_IMAGE_NAME)}?hostId=${hostId}`,
  );
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.match(refused.body.error, /container/i);
  assert.ok(
    (await images()).some((i) => i.id === base.id),
    "still there",
  );

  // A pull refused before it starts keeps its status, streamed (NDJSON asked) or not.
  for (const accept of ["application/json", "application/x-ndjson"]) {
    const res = await fetch(`${stack.url}/api/v1/images/pull`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${stack.token}`,
        "content-type": "application/json",
        accept,
      },
      body: JSON.stringify({ hostId, ref: "127.0.0.1:9/nothing:1" }),
    });
    const body = (await res.json()) as { error: string };
    assert.ok(res.status >= 400, `${accept}: ${res.status}`);
    assert.match(body.error, /127\.0\.0\.1:9/);
  }

  // force: removed even though img-user was made from it (the container keeps running).
  const forced = await ok<{ untagged: string[] }>(
    "DELETE",
    `/api/v1/images/${encodeURIComponent(TEST_IMAGE_NAME)}?hostId=${hostId}&force=1`,
  );
  assert.ok(forced.untagged.includes(TEST_IMAGE_NAME), JSON.stringify(forced));
  const c = await ok<{ state: string }>("GET", `/api/v1/containers/${busy}`);
  assert.equal(c.state, "running");
  const pruned = await ok<{ deleted: string[]; spaceReclaimed: number }>(
    "POST",
    "/api/v1/images/prune",
    { hostId, all: true },
  );
  assert.equal(typeof pruned.spaceReclaimed, "number");
});

test("a viewer reads every list but each change is 403, and nothing changes", async () => {
  await ok("POST", "/api/v1/users", {
    email: "viewer@example.com",
    password: "viewer password 1",
    role: "viewer",
  });
  const login = await stack.api<{ token: string }>(
    "POST",
    "/api/v1/auth/login",
    { email: "viewer@example.com", password: "viewer password 1" },
    null,
  );
  const viewer = login.body.token;
  for (const path of ["/api/v1/images", "/api/v1/networks", "/api/v1/volumes", "/api/v1/events"])
    assert.equal((await stack.api("GET", path, undefined, viewer)).status, 200, path);
  for (const [method, path, body] of [
    ["POST", "/api/v1/images/pull", { hostId, ref: "busybox" }],
    ["DELETE", `/api/v1/images/${encodeURIComponent(TEST_IMAGE_NAME)}?hostId=${hostId}`],
    ["POST", "/api/v1/images/prune", { hostId, all: true }],
    ["POST", "/api/v1/networks", { hostId, name: "viewer-net" }],
    ["DELETE", `/api/v1/networks/bridge?hostId=${hostId}`],
    ["POST", "/api/v1/volumes", { hostId, name: "viewer-vol" }],
    ["DELETE", `/api/v1/volumes/x?hostId=${hostId}`],
    ["POST", "/api/v1/volumes/prune", { hostId }],
  ] as const) {
    const r = await stack.api<{ error: string }>(method, path, body, viewer);
    assert.equal(r.status, 403, `${method} ${path}`);
    assert.match(r.body.error, /your role \(viewer\) may not (images|networks|volumes)\.write/);
  }
  const nets = await ok<FleetList<NetworkRow>>("GET", `/api/v1/networks?hostId=${hostId}`);
  assert.ok(!nets.items.some((n) => n.name === "viewer-net"));
});

test("an offline host: 409 for its commands, named (not fatal) in fleet-wide lists", async () => {
  agent.kill("SIGKILL");
  await waitFor("host offline", async () => {
    const h = await stack.api<Array<{ id: string; status: string }>>("GET", "/api/v1/hosts");
    return h.body.find((x) => x.id === hostId)?.status === "offline";
  });
  for (const [method, path, body] of [
    ["GET", `/api/v1/networks?hostId=${hostId}`, undefined],
    ["GET", `/api/v1/volumes?hostId=${hostId}`, undefined],
    ["POST", "/api/v1/networks", { hostId, name: "late" }],
    ["POST", "/api/v1/volumes", { hostId, name: "late" }],
    ["POST", "/api/v1/volumes/prune", { hostId }],
    ["POST", "/api/v1/images/prune", { hostId }],
    ["DELETE", `/api/v1/images/busybox?hostId=${hostId}`, undefined],
  ] as const) {
    const r = await stack.api<{ error: string }>(method, path, body);
    assert.equal(r.status, 409, `${method} ${path}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error, /is offline: start its agent/);
  }
  const fleet = await ok<FleetList<NetworkRow>>("GET", "/api/v1/networks");
  assert.deepEqual(fleet.items, []);
  assert.deepEqual(
    fleet.unreachable.map((u) => [u.hostId, u.name]),
    [[hostId, "res-host"]],
  );
  // The event log is the database's: still there, with the host going offline.
  const ev = await ok<{ events: EventRow[] }>("GET", `/api/v1/events?hostId=${hostId}&limit=1`);
  assert.equal(ev.events[0]?.type, "host-offline");
});
