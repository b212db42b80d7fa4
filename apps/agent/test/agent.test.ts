// The agent against a private runtime and a real socket.io server standing in for the web app:
// what goes over the wire (snapshot, numbered deltas in order, stats, streams, acks).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { RuntimeClient, runtimePaths } from "@corral/runtime";
import { startRuntime, type TestRuntime } from "../../../packages/runtime/test/fixtures/runtime.js";
import {
  TEST_IMAGE_NAME,
  buildTestImages,
} from "../../../packages/runtime/test/fixtures/images.js";
import { pushWithSkopeo, startRegistry } from "../../../packages/runtime/test/fixtures/registry.js";
import { Agent, FatalAgentError } from "../src/agent.js";
import { hostFacts } from "../src/facts.js";
import { CREDENTIAL, WebDouble, waitFor } from "./fixtures/web-double.js";

let runtime: TestRuntime;
let agent: Agent;
const web = new WebDouble();
const { snapshots, deltas, stats, streamEnds } = web;
const command = web.command.bind(web);
const text = web.text.bind(web);

before(async () => {
  runtime = await startRuntime("agent");
  await web.start();
  const paths = runtimePaths(runtime.env);
  // Made before the agent starts, with the runtime's own CLI: the snapshot must show it.
  assert.equal(
    runtime.rt("run", "-d", "--name", "before", TEST_IMAGE_NAME, "sleep", "1000").code,
    0,
  );
  agent = new Agent({
    client: new RuntimeClient(paths),
    credential: { server: web.url, hostId: "h1", credential: CREDENTIAL },
    facts: () => hostFacts(paths, "agent-test"),
    log: () => undefined,
  });
  await agent.start();
});

after(async () => {
  agent?.stop();
  web.close();
  runtime?.cleanup();
});

test("on connect: a snapshot with a version, the host's facts and containers made outside", async () => {
  const s = await waitFor("snapshot", () => snapshots[0]);
  assert.equal(s.facts.hostname, "agent-test");
  assert.ok(s.facts.cpus > 0 && s.facts.memoryBytes > 0);
  const before = s.containers.find((c) => c.name === "before");
  assert.ok(before && before.state === "running" && before.pid > 0);
  assert.ok(s.images.some((i) => i.repoTags.includes(TEST_IMAGE_NAME)));
});

test("commands: create and start answer with the container; deltas follow, numbered in order", async () => {
  const created = await command({
    type: "create",
    spec: {
      image: TEST_IMAGE_NAME,
      name: "worker",
      cmd: ["sh", "-c", "echo out; echo err >&2; sleep 1000"],
    },
  });
  assert.ok(created.ok, JSON.stringify(created));
  const id = (created.result as { container: { id: string } }).container.id;
  const started = await command({ type: "start", id });
  assert.ok(started.ok);
  assert.equal((started.result as { container: { state: string } }).container.state, "running");
  await waitFor("start delta", () =>
    deltas.find(
      (d) =>
        d.change.kind === "container" &&
        d.change.event.type === "start" &&
        d.change.event.id === id,
    ),
  );
  // killed outside the agent: the die event carries the exit code
  assert.equal(runtime.rt("kill", id).code, 0);
  const die = await waitFor("die delta", () =>
    deltas.find(
      (d) =>
        d.change.kind === "container" && d.change.event.type === "die" && d.change.event.id === id,
    ),
  );
  assert.equal(die.change.kind === "container" && die.change.event.exitCode, 137);
  assert.equal(die.change.kind === "container" && die.change.container?.state, "exited");
  assert.equal(snapshots.length, 1, "one snapshot per connection");
  const snapshotSeq = snapshots[0]!.version.seq;
  deltas.forEach((d, i) => {
    assert.equal(d.version.epoch, snapshots[0]!.version.epoch);
    assert.equal(d.version.seq, snapshotSeq + i + 1, "no gap, no reordering");
  });
  const types = deltas
    .filter((d) => d.change.kind === "container")
    .map((d) => d.change.kind === "container" && d.change.event.type);
  assert.deepEqual(types.slice(0, 2), ["create", "start"]);
});

test("bad and failing commands are answered with a status, not dropped", async () => {
  const bad = await command({ type: "rm-rf" });
  assert.equal(bad.ok, false);
  assert.equal(!bad.ok && bad.status, 400);
  const missing = await command({ type: "start", id: "no-such-container" });
  assert.equal(!missing.ok && missing.status, 404);
  const noImage = await command({ type: "create", spec: { image: "no/such:image" } });
  assert.equal(noImage.ok, false);
});

test("stats at 1 Hz for running containers", async () => {
  const before = snapshots[0]!.containers.find((c) => c.name === "before")!;
  const sample = await waitFor("stats of 'before'", () =>
    stats.flatMap((b) => b.samples).find((s) => s.id === before.id && s.memoryUsageBytes > 0),
  );
  assert.ok(sample.pids >= 1);
  assert.ok(sample.memoryLimitBytes > 0);
  // one batch a second carries every running container (the daemon's GET /v1/stats)
  assert.equal(
    runtime.rt("run", "-d", "--name", "second", TEST_IMAGE_NAME, "sleep", "1000").code,
    0,
  );
  const running = runtime.rt("ps", "-q", "--no-trunc").out.split("\n").filter(Boolean);
  assert.ok(running.length >= 2);
  await waitFor("a batch with every running container", () =>
    stats.some((b) => running.every((id) => b.samples.some((s) => s.id.startsWith(id)))),
  );
});

test("logs: tail and follow stream the container's output until closed", async () => {
  const w = runtime.rt(
    "run",
    "-d",
    "--name",
    "talker",
    TEST_IMAGE_NAME,
    "sh",
    "-c",
    "echo one; sleep 0.3; echo two; sleep 1000",
  );
  assert.equal(w.code, 0, w.err);
  const talker = w.out.trim();
  const reply = await command({ type: "logs", id: talker, follow: true, streamId: "logs-1" });
  assert.ok(reply.ok, JSON.stringify(reply));
  await waitFor("both lines", () => /one\ntwo\n/.test(text("logs-1")));
  web.socket!.emit("stream:close", { streamId: "logs-1" });
  await waitFor("stream end", () => streamEnds.get("logs-1"));
});

test("exec with a terminal: input, resize, exit code", async () => {
  const id = snapshots[0]!.containers.find((c) => c.name === "before")!.id;
  const reply = await command({
    type: "exec",
    id,
    cmd: ["sh"],
    tty: true,
    cols: 80,
    rows: 24,
    streamId: "exec-1",
  });
  assert.ok(reply.ok, JSON.stringify(reply));
  web.socket!.emit("stream:input", { streamId: "exec-1", data: Buffer.from("stty size\n") });
  await waitFor("24 80", () => /24 80/.test(text("exec-1")));
  web.socket!.emit("stream:resize", { streamId: "exec-1", cols: 100, rows: 30 });
  web.socket!.emit("stream:input", {
    streamId: "exec-1",
    data: Buffer.from("stty size; exit 7\n"),
  });
  const end = await waitFor("exec end", () => streamEnds.get("exec-1"));
  assert.match(text("exec-1"), /30 100/);
  assert.equal(end.exitCode, 7);
});

test("pull: per-layer progress, the result in the ack, then the new image list", async () => {
  const registry = await startRegistry();
  try {
    const images = await buildTestImages(join(runtime.base, "images"));
    const ref = `${registry.host}/corral/pulled:1`;
    await pushWithSkopeo(`oci:${images.layoutDir}:latest`, ref);
    const reply = await command({ type: "pull", ref, streamId: "pull-1" });
    assert.ok(reply.ok, JSON.stringify(reply));
    assert.equal((reply.result as { id: string }).id, images.imageId);
    const layers = web.progress.get("pull-1") ?? [];
    assert.deepEqual(
      [
        ...new Set(
          layers.filter((l) => l.status === "done" || l.status === "exists").map((l) => l.digest),
        ),
      ].length,
      images.diffIds.length,
      "every layer reported",
    );
    await waitFor("an images delta with the new tag", () =>
      deltas.find(
        (d) => d.change.kind === "images" && d.change.images.some((i) => i.repoTags.includes(ref)),
      ),
    );
    const missing = await command({
      type: "pull",
      ref: `${registry.host}/corral/none:1`,
      streamId: "pull-2",
    });
    assert.equal(missing.ok, false);
  } finally {
    await registry.stop();
  }
});

test("a credential the server refuses stops the agent for good (no retry loop)", async () => {
  const paths = runtimePaths(runtime.env);
  const refused = new Agent({
    client: new RuntimeClient(paths),
    credential: { server: web.url, hostId: "h2", credential: "chc_" + "y".repeat(40) },
    facts: () => hostFacts(paths, "refused"),
    log: () => undefined,
  });
  await refused.start();
  await assert.rejects(refused.done, (err: Error) => {
    assert.ok(err instanceof FatalAgentError);
    assert.match(err.message, /the server refused this host: unknown host credential/);
    return true;
  });
});

test("networks and volumes: create, list, remove", async () => {
  const net = await command({
    type: "networks.create",
    name: "agent-net",
    subnet: "10.213.7.0/24",
  });
  assert.ok(net.ok, JSON.stringify(net));
  const nets = await command({ type: "networks.list" });
  assert.ok(nets.ok);
  const listed = (nets.result as { networks: Array<{ name: string; subnet: string }> }).networks;
  assert.equal(listed.find((n) => n.name === "agent-net")?.subnet, "10.213.7.0/24");
  assert.ok((await command({ type: "networks.remove", name: "agent-net" })).ok);
  const vol = await command({ type: "volumes.create", name: "agent-vol" });
  assert.ok(vol.ok, JSON.stringify(vol));
  const vols = await command({ type: "volumes.list" });
  assert.ok(vols.ok);
  assert.ok(
    (vols.result as { volumes: Array<{ name: string }> }).volumes.some(
      (v) => v.name === "agent-vol",
    ),
  );
  assert.ok((await command({ type: "volumes.remove", name: "agent-vol" })).ok);
  const gone = await command({ type: "volumes.remove", name: "agent-vol" });
  assert.equal(!gone.ok && gone.status, 404);
});

test("a server that hangs up is reconnected to each time, and the retries are not kept", async () => {
  for (let i = 0; i < 5; i++) {
    const before = snapshots.length;
    const socket = web.socket!;
    socket.disconnect(true); // "io server disconnect": socket.io leaves the retry to the agent
    await waitFor(`reconnect ${i + 1}`, () => web.socket !== socket && snapshots.length > before);
  }
  // what the agent holds for its timers: its three intervals, no fired retry per reconnect
  const held = agent as unknown as { timers: NodeJS.Timeout[]; retryTimer?: NodeJS.Timeout };
  assert.equal(held.timers.length, 3);
  assert.equal(held.retryTimer, undefined, "no retry pending once connected");
  assert.ok((await command({ type: "images.list" })).ok, "commands work on the new connection");
});
