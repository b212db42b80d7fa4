// A crash of the daemon leaves nothing half-made, and the daemon always comes back: kill -9
// in the middle of 20 runs, a torn container.json, a torn IPAM file.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, truncateSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { INTERRUPTED_START } from "../src/daemon/reconcile.js";
import { tableName } from "../src/network/nftables.js";
import { TEST_IMAGE_NAME } from "./fixtures/images.js";
import { CLI, startRuntime, type TestRuntime } from "./fixtures/runtime.js";

let runtime: TestRuntime;

interface Inspected {
  Id: string;
  Name: string;
  State: { Status: string; Error: string };
  HostConfig: { AutoRemove: boolean };
  NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
}

function inspectAll(): Inspected[] {
  const ids = runtime.rt("ps", "-a", "-q").out.split("\n").filter(Boolean);
  if (ids.length === 0) return [];
  const r = runtime.rt("inspect", ...ids);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as Inspected[];
}

/** This container's cgroup directories, in every hierarchy (v1 here, v2 elsewhere). */
function cgroupDirs(id: string): string[] {
  const root = "/sys/fs/cgroup";
  const parent = runtime.cgroupParent;
  const candidates = [join(root, parent, id), join(root, "unified", parent, id)];
  for (const h of readdirSync(root)) candidates.push(join(root, h, parent, id));
  return [...new Set(candidates)].filter((d) => existsSync(d));
}

/** kill -9, and wait until it is gone (a zombie at most: its files are closed by then). */
async function killDaemon(): Promise<void> {
  const pid = runtime.daemonPid();
  process.kill(pid, "SIGKILL");
  for (;;) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return;
    } catch {
      return;
    }
    await sleep(10);
  }
}

describe("crash recovery", () => {
  before(async () => {
    runtime = await startRuntime("recovery");
  });
  after(() => runtime.cleanup());

  test("kill -9 while 20 runs are in flight: --rm ones go, the rest say why, no cgroup stays", async () => {
    const containersDir = join(runtime.base, "root", "containers");
    const before = new Set(readdirSync(containersDir));
    const runs = Array.from({ length: 20 }, (_, i) =>
      runtime.rtAsync(
        "run",
        "-d",
        ...(i % 2 === 0 ? ["--rm"] : []),
        "--name",
        `burst${i}`,
        TEST_IMAGE_NAME,
        "sleep",
        "3600",
      ),
    );
    // Once some containers exist, and before all have started.
    for (let i = 0; i < 2000; i++) {
      if (readdirSync(containersDir).filter((d) => !before.has(d)).length >= 3) break;
      await sleep(5);
    }
    await killDaemon();
    const results = await Promise.all(runs);
    const failed = results.filter((r) => r.code !== 0);
    assert.ok(failed.length > 0, "the kill landed after every run had finished: nothing tested");

    const all = inspectAll(); // brings a daemon back
    const made = all.filter((c) => c.Name.startsWith("/burst"));
    for (const c of made) {
      if (c.State.Status === "running") continue;
      assert.equal(
        c.HostConfig.AutoRemove,
        false,
        `${c.Name}: a --rm container that never ran stays`,
      );
      assert.equal(c.State.Error, INTERRUPTED_START, `${c.Name} (${c.State.Status})`);
    }
    for (const [i, r] of results.entries()) {
      const c = made.find((x) => x.Name === `/burst${i}`);
      if (r.code === 0) assert.equal(c?.State.Status, "running", `burst${i} ran: ${r.out}`);
      else if (i % 2 === 0 && r.err.includes("restarted before starting it")) {
        // --rm, created before the kill: the next daemon removed it before its start came.
        assert.match(
          r.err,
          /^corral-rt: container [0-9a-f]{12} was removed when corral-rtd restarted before starting it \(--rm\): nothing ran; run it again\n$/,
        );
        assert.equal(c, undefined);
      } else
        assert.match(
          r.err,
          /^corral-rt: lost the connection to corral-rtd \((socket hang up|read ECONNRESET|write EPIPE|aborted|connection closed)\); the operation may have happened: check with corral-rt ps -a\n$/,
        );
    }
    // Every container made in the burst that is not running holds no cgroup; --rm ones are gone
    // with their directories.
    const ids = readdirSync(containersDir).filter((d) => !before.has(d));
    for (const id of ids) {
      const c = made.find((x) => x.Id === id);
      assert.ok(c, `container directory ${id} without a container`);
      if (c.State.Status !== "running") assert.deepEqual(cgroupDirs(id), [], c.Name);
    }
    assert.ok(
      made.some((c) => c.State.Status !== "running") || made.length < 20,
      "some run was cut short",
    );
    for (const c of made) runtime.rt("rm", "-f", c.Id);
  });

  test("a torn container.json and a torn IPAM file: that container dead with the reason, the rest back", async () => {
    const running = runtime.rt("run", "-d", "--name", "keeps", TEST_IMAGE_NAME, "sleep", "3600");
    assert.equal(running.code, 0, running.err);
    const created = runtime.rt("create", "--name", "torn", TEST_IMAGE_NAME, "true");
    assert.equal(created.code, 0, created.err);
    const tornId = created.out.trim();
    const keptIp = inspectAll().find((c) => c.Name === "/keeps")?.NetworkSettings.Networks.bridge
      ?.IPAddress;
    assert.ok(keptIp);
    await killDaemon();
    truncateSync(join(runtime.base, "root", "containers", tornId, "container.json"), 11);
    writeFileSync(join(runtime.base, "root", "network", "bridge.ipam.json"), "{}");

    const all = inspectAll();
    const torn = all.find((c) => c.Id === tornId);
    assert.equal(torn?.State.Status, "dead");
    assert.match(torn?.State.Error ?? "", /container\.json cannot be read \(.*JSON.*\)/);
    const ps = runtime.rt("ps", "-a");
    assert.match(ps.out, new RegExp(`${tornId.slice(0, 12)}.*Dead`));
    assert.equal(all.find((c) => c.Name === "/keeps")?.State.Status, "running");
    assert.match(runtime.rt("start", tornId).err, /cannot start .*cannot be read/);

    // The IPAM copy was rebuilt from the running container's record: a new one gets another address.
    const next = runtime.rt("run", "-d", TEST_IMAGE_NAME, "sleep", "3600");
    assert.equal(next.code, 0, next.err);
    const nextIp = inspectAll().find((c) => c.Id === next.out.trim())?.NetworkSettings.Networks
      .bridge?.IPAddress;
    assert.ok(nextIp);
    assert.notEqual(nextIp, keptIp);

    assert.equal(runtime.rt("rm", "-f", tornId).code, 0);
    assert.ok(!existsSync(join(runtime.base, "root", "containers", tornId)));
    runtime.rt("rm", "-f", "keeps", next.out.trim());
  });

  test("a published port taken while the daemon was down: no longer forwarded, no second rule later", async () => {
    const lostPort = 21000 + Math.floor(Math.random() * 2000);
    const kept = lostPort + 1;
    const web = runtime.rt(
      "run",
      "-d",
      "-p",
      `${lostPort}:80`,
      "-p",
      `${kept}:81`,
      TEST_IMAGE_NAME,
      "sleep",
      "3600",
    );
    assert.equal(web.code, 0, web.err);
    const id = web.out.trim();
    const rules = (port: number): number => {
      const table = tableName(join(runtime.base, "root"), false);
      const out = spawnSync("nft", ["list", "table", "ip", table], { encoding: "utf8" }).stdout;
      return out.split("\n").filter((l) => l.includes(`dport ${port} dnat`)).length;
    };
    assert.equal(rules(lostPort), 1);
    await killDaemon();
    // Another program takes one of its ports while no daemon runs.
    // (Retried: the dead daemon's listening socket can take a moment to be released.)
    const squatter = createServer();
    for (let attempt = 0; ; attempt++) {
      const err = await new Promise<Error | undefined>((resolve) => {
        squatter.once("error", resolve);
        squatter.listen(lostPort, "0.0.0.0", () => resolve(undefined));
      });
      if (!err) break;
      if (attempt === 250) throw err;
      await sleep(20);
    }
    try {
      const [view] = inspectAll().filter((c) => c.Id === id);
      assert.equal(view?.State.Status, "running");
      assert.equal(rules(lostPort), 0, "a port the daemon does not hold is not forwarded");
      assert.equal(rules(kept), 1, "the others still are");
      const ps = runtime.rt("ps");
      assert.doesNotMatch(ps.out, new RegExp(`:${lostPort}->`));
      assert.match(ps.out, new RegExp(`:${kept}->81`));
    } finally {
      await new Promise((r) => squatter.close(r));
    }
    // Free again: another container may publish it, and it alone is forwarded.
    const next = runtime.rt("run", "-d", "-p", `${lostPort}:80`, TEST_IMAGE_NAME, "sleep", "3600");
    assert.equal(next.code, 0, next.err);
    assert.equal(rules(lostPort), 1);
    runtime.rt("rm", "-f", id, next.out.trim());
  });

  test("logs -f when the daemon dies: one line, saying nothing was changed", async () => {
    const c = runtime.rt(
      "run",
      "-d",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "while :; do echo x; sleep 0.1; done",
    );
    assert.equal(c.code, 0, c.err);
    const logs = spawn(process.execPath, [CLI, "logs", "-f", c.out.trim()], { env: runtime.env });
    let err = "";
    logs.stderr.on("data", (d: Buffer) => (err += d.toString()));
    await new Promise((r) => logs.stdout.once("data", r)); // it is following
    logs.stdout.resume();
    const code = new Promise((r) => logs.once("close", r));
    await killDaemon();
    assert.equal(await code, 1);
    assert.match(
      err,
      /^corral-rt: lost the connection to corral-rtd \((aborted|read ECONNRESET|socket hang up)\); nothing was changed: try again\n$/,
    );
    runtime.rt("rm", "-f", c.out.trim());
  });
});
