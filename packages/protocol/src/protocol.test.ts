import assert from "node:assert/strict";
import { test } from "node:test";
import {
  commandReplySchema,
  commandSchema,
  deltaSchema,
  describeZodError,
  hostStatsSchema,
  joinRequestSchema,
  parseOrThrow,
  snapshotSchema,
  streamDataSchema,
  type ContainerInfo,
  type HostFacts,
} from "./index.js";

const ID = "a".repeat(64);
const facts: HostFacts = {
  hostname: "h1",
  kernel: "6.1.0",
  os: "linux",
  arch: "x64",
  cpus: 2,
  memoryBytes: 4e9,
  diskBytes: 1e11,
  diskFreeBytes: 5e10,
  cgroups: "v1",
  runtimeVersion: "0.1.0",
  agentVersion: "0.1.0",
};
const container: ContainerInfo = {
  id: ID,
  name: "web",
  image: "busybox",
  imageId: "sha256:" + "b".repeat(64),
  command: ["sleep", "1d"],
  state: "running",
  pid: 42,
  exitCode: 0,
  oomKilled: false,
  error: "",
  restartCount: 0,
  restartPolicy: "no",
  created: "2026-01-01T00:00:00Z",
  startedAt: "2026-01-01T00:00:01Z",
  finishedAt: "0001-01-01T00:00:00Z",
  labels: {},
  ports: [],
  memoryLimitBytes: 0,
  cpus: 0,
};

test("a well-formed snapshot and delta parse", () => {
  const version = { epoch: "e1", seq: 3 };
  snapshotSchema.parse({ version, facts, containers: [container], images: [] });
  deltaSchema.parse({
    version,
    change: {
      kind: "container",
      event: { type: "die", id: ID, name: "web", image: "busybox", time: "t", exitCode: 3 },
      container: { ...container, state: "exited", exitCode: 3 },
    },
  });
});

test("snapshots with a bad container are refused, naming the field", () => {
  const bad = { version: { epoch: "e", seq: 0 }, facts, images: [] };
  for (const [c, field] of [
    [{ ...container, id: "../../etc" }, "containers.0.id"],
    [{ ...container, state: "zombie" }, "containers.0.state"],
    [{ ...container, pid: -1 }, "containers.0.pid"],
  ] as const) {
    const r = snapshotSchema.safeParse({ ...bad, containers: [c] });
    assert.equal(r.success, false);
    assert.match(describeZodError(r.error!), new RegExp(`^${field.replace(/\./g, "\\.")}: `));
  }
  assert.equal(
    snapshotSchema.safeParse({ ...bad, containers: [container], version: { epoch: "e", seq: -1 } })
      .success,
    false,
  );
});

test("deltas must say what changed", () => {
  const version = { epoch: "e1", seq: 1 };
  assert.equal(deltaSchema.safeParse({ version, change: { kind: "reboot" } }).success, false);
  assert.equal(
    deltaSchema.safeParse({
      version,
      change: {
        kind: "container",
        event: { type: "explode", id: ID, name: "", image: "", time: "" },
        container: null,
      },
    }).success,
    false,
  );
});

test("commands are validated: unknown types, missing ids, bad specs", () => {
  assert.equal(commandSchema.safeParse({ type: "format-disk" }).success, false);
  assert.equal(commandSchema.safeParse({ type: "start" }).success, false);
  const r = commandSchema.safeParse({
    type: "create",
    spec: { image: "busybox", ports: [{ containerPort: 0 }] },
  });
  assert.equal(r.success, false);
  assert.match(describeZodError(r.error!), /^spec\.ports\.0\.containerPort: /);
  assert.equal(
    commandSchema.safeParse({ type: "exec", id: "x", cmd: [], tty: true, streamId: "s" }).success,
    false,
  );
  commandSchema.parse({ type: "logs", id: "web", follow: true, tail: 10, streamId: "s1" });
  commandSchema.parse({ type: "create", spec: { image: "busybox", cmd: ["true"], env: ["A=1"] } });
  assert.throws(
    () =>
      parseOrThrow(
        commandSchema,
        { type: "create", spec: { image: "b", env: ["NOEQUALS"] } },
        "command",
      ),
    /bad command: spec\.env\.0: environment entries look like KEY=value/,
  );
});

test("replies and stream data", () => {
  assert.equal(
    commandReplySchema.safeParse({ ok: false, status: 200, message: "x" }).success,
    false,
  );
  commandReplySchema.parse({ ok: false, status: 404, message: "no such container" });
  assert.equal(
    streamDataSchema.safeParse({ streamId: "s", data: "text, not bytes" }).success,
    false,
  );
  streamDataSchema.parse({ streamId: "s", data: Buffer.from("hi") });
});

test("join requests need a token and a host name that cannot be a path", () => {
  assert.equal(joinRequestSchema.safeParse({ token: "", name: "h", facts }).success, false);
  assert.equal(joinRequestSchema.safeParse({ token: "t", name: "../h", facts }).success, false);
  joinRequestSchema.parse({ token: "t", name: "h-1.example", facts });
});

test("a host's own stats sample parses; an impossible one is refused, naming the field", () => {
  const sample = {
    time: "2026-12-03T00:00:00.000Z",
    cpuPercent: 12.5,
    cpus: 2,
    memoryUsedBytes: 1e9,
    memoryTotalBytes: 4e9,
    load1: 0.5,
    load5: 0.4,
    load15: 0.3,
    diskUsedBytes: 5e10,
    diskTotalBytes: 1e11,
  };
  hostStatsSchema.parse({ sample });
  for (const [over, field] of [
    [{ cpuPercent: 250 }, "sample.cpuPercent"],
    [{ memoryUsedBytes: -1 }, "sample.memoryUsedBytes"],
    [{ load1: "high" }, "sample.load1"],
  ] as const) {
    const r = hostStatsSchema.safeParse({ sample: { ...sample, ...over } });
    assert.equal(r.success, false);
    assert.match(describeZodError(r.error!), new RegExp(`^${field.replace(/\./g, "\\.")}: `));
  }
});
