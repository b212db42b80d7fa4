// The daemon's batched stats route (`GET /v1/stats`, what the agent asks once a second): every
// running container's sample in one answer, with a real CPU %, on cgroup v1 (this hybrid host's
// default) and on its cgroup2 mount (CORRAL_CGROUP2). The sampler keeps each container's cgroup
// files open between samples: a restarted container must be read from its new cgroup, and a
// removed one must leave no descriptor behind in the daemon.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { detectCgroups } from "../src/cgroups/index.js";
import { ApiError, RuntimeClient } from "../src/client/client.js";
import type { ContainerStats } from "../src/daemon/stats.js";
import { runtimePaths } from "../src/paths.js";
import { TEST_IMAGE_NAME } from "./fixtures/images.js";
import { startRuntime, type TestRuntime } from "./fixtures/runtime.js";

const detected = detectCgroups();
const unified = detected.kind === "v2" ? detected.root : detected.unified;
const root = process.getuid?.() === 0;

/** What the daemon's descriptors point at (cgroup files included). */
function daemonFdTargets(runtime: TestRuntime): string[] {
  const dir = `/proc/${runtime.daemonPid()}/fd`;
  return readdirSync(dir).flatMap((fd) => {
    try {
      return [readlinkSync(`${dir}/${fd}`)];
    } catch {
      return []; // closed meanwhile
    }
  });
}

function statsRouteTests(layout: "v1" | "v2", cgroup2: string | undefined): void {
  let runtime: TestRuntime;
  let client: RuntimeClient;
  const rt = (...args: string[]): ReturnType<TestRuntime["rt"]> => runtime.rt(...args);
  const idOf = (name: string): string => rt("inspect", "-f", "{{.Id}}", name).out.trim();
  const byName = async (): Promise<Map<string, ContainerStats>> =>
    new Map(
      (await client.call<ContainerStats[]>("GET", "/v1/stats")).map((s) => [s.name, s] as const),
    );

  before(async () => {
    const saved = process.env.CORRAL_CGROUP2;
    if (cgroup2 === undefined) delete process.env.CORRAL_CGROUP2;
    else process.env.CORRAL_CGROUP2 = cgroup2;
    try {
      runtime = await startRuntime(`stats-${layout}`);
    } finally {
      if (saved === undefined) delete process.env.CORRAL_CGROUP2;
      else process.env.CORRAL_CGROUP2 = saved;
    }
    client = new RuntimeClient(runtimePaths(runtime.env));
  });

  after(() => runtime?.cleanup());

  test("every running container in one answer: CPU % over an interval, memory, pids, network", async () => {
    const limit = layout === "v1" ? ["--memory", "64m"] : [];
    const runs = [
      rt(
        "run",
        "-d",
        "--name",
        "spin",
        ...limit,
        TEST_IMAGE_NAME,
        "sh",
        "-c",
        "while :; do :; done",
      ),
      rt("run", "-d", "--name", "idle", TEST_IMAGE_NAME, "sleep", "1000"),
      rt("create", "--name", "made", TEST_IMAGE_NAME, "true"),
      rt("run", "--name", "done", TEST_IMAGE_NAME, "true"),
    ];
    for (const r of runs) assert.equal(r.code, 0, r.err);
    // The first answer primes each container (waits a second once for all of them).
    const first = await byName();
    assert.deepEqual([...first.keys()].sort(), ["idle", "spin"]);
    const spin = first.get("spin")!;
    assert.equal(spin.id, idOf("spin"));
    // a spinning shell gets its share of a busy shared machine, not a whole core
    assert.ok(spin.cpuPercent > 5, `a spinning shell shows ${spin.cpuPercent}%`);
    assert.ok(spin.pids.current >= 1);
    // a hybrid host's cgroup2 mount has no memory controller (it stays in v1)
    const memory =
      cgroup2 === undefined ||
      readFileSync(join(cgroup2, "cgroup.controllers"), "utf8").split(/\s+/).includes("memory");
    if (memory) assert.ok(spin.memory.usageBytes > 0);
    if (layout === "v1") assert.equal(spin.memory.limitBytes, 64 * 2 ** 20);
    const idle = first.get("idle")!;
    assert.ok(idle.cpuPercent < spin.cpuPercent);
    assert.ok(idle.network.rxBytes >= 0 && typeof idle.network.txPackets === "number");
    // A second answer reads the same kept-open files again: the counters move.
    await new Promise((r) => setTimeout(r, 600));
    const second = (await byName()).get("spin")!;
    assert.ok(second.cpu.usageNanos > spin.cpu.usageNanos);
    assert.ok(Date.parse(second.readAt) > Date.parse(spin.readAt));
    // the one-container route refuses what is not running, as before
    await assert.rejects(
      client.call("GET", `/v1/containers/made/stats`),
      (err: unknown) => err instanceof ApiError && err.status === 409,
    );
  });

  test("a restarted container is read from its new cgroup; a removed one leaves no descriptor open", async () => {
    const id = idOf("idle");
    const before = (await byName()).get("idle")!;
    assert.ok(before.pids.current >= 1);
    assert.ok(
      daemonFdTargets(runtime).some((t) => t.includes(id)),
      "the sampler keeps the cgroup's files open",
    );
    assert.equal(rt("restart", "-t", "0", "idle").code, 0);
    const after = (await byName()).get("idle");
    assert.ok(after, "the restarted container is sampled");
    assert.ok(after.pids.current >= 1);
    assert.equal(rt("rm", "-f", "idle", "spin").code, 0);
    assert.deepEqual(await byName(), new Map());
    assert.deepEqual(
      daemonFdTargets(runtime).filter((t) => t.includes(id)),
      [],
      "descriptors of the removed container's cgroup",
    );
  });
}

describe(
  "GET /v1/stats on cgroup v1",
  { skip: !root ? "needs root" : detected.kind !== "v1" ? "not a v1 host" : false },
  () => statsRouteTests("v1", undefined),
);

describe(
  "GET /v1/stats on cgroup v2 (CORRAL_CGROUP2)",
  { skip: !root ? "needs root" : unified === undefined ? "no cgroup2 mount" : false },
  () => statsRouteTests("v2", unified),
);
