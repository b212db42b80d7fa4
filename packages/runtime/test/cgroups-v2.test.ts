// Privileged: the real cgroup2 mount of this host. On the hybrid dev machines that is
// /sys/fs/cgroup/unified with no controllers: core features (procs, freeze, kill, cpu.stat)
// are real there, and any limit must be refused clearly.
import { after, afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CgroupLimitError,
  V2CgroupManager,
  createCgroupManager,
  detectCgroups,
} from "../src/cgroups/index.js";
import {
  MiB,
  cgroupOf,
  cpuTicks,
  exitOf,
  killChildren,
  spawnGated,
  testParent,
} from "./cgroups-helpers.js";
import { waitFor } from "./fixtures/wait.js";

const detected = detectCgroups();
const root = detected.kind === "v2" ? detected.root : detected.unified;
const skip =
  root === undefined ? "no cgroup2 mount" : process.getuid?.() !== 0 ? "needs root" : false;

describe("cgroup v2 manager (real cgroup2 mount)", { skip }, () => {
  const cgroot = root ?? "";
  const parent = testParent();
  let n = 0;
  const manager = (): V2CgroupManager => {
    const m = createCgroupManager(`${parent}/c${++n}`, { kind: "v2", root: cgroot });
    assert.ok(m instanceof V2CgroupManager);
    return m;
  };
  const available = (): Set<string> =>
    new Set(readFileSync(join(cgroot, "cgroup.controllers"), "utf8").trim().split(/\s+/));

  afterEach(() => killChildren());
  after(async () => {
    killChildren();
    await new V2CgroupManager(parent, cgroot).destroy();
    assert.ok(!existsSync(join(cgroot, parent)));
  });

  test("create, addProcess, pids, stats from core cpu.stat, destroy", async () => {
    const cg = manager();
    const report = await cg.create();
    for (const c of ["memory", "pids", "cpu", "io"]) {
      if (!available().has(c)) {
        assert.ok(report.warnings.some((w) => w.includes(`the ${c} controller is not available`)));
      }
    }
    assert.equal(await cg.exists(), true);
    const { pid, go } = spawnGated("sh -c 'while :; do :; done'");
    await cg.addProcess(pid);
    assert.match(cgroupOf(pid), new RegExp(`^0::/${cg.relPath}$`, "m"));
    assert.deepEqual(await cg.pids(), [pid]);
    go();
    const s0 = await cg.stats();
    const s1 = await waitFor("cpu.stat usage to grow", async () => {
      const s = await cg.stats();
      return s.cpu.usageNanos - s0.cpu.usageNanos > 100e6 && s;
    });
    assert.ok(s1.cpu.userNanos > 0);
    assert.equal(s1.pids.current, 1);
    await cg.destroy();
    assert.equal(await cg.exists(), false);
    assert.ok(!existsSync(cg.path));
  });

  test("freeze via cgroup.freeze stops a busy loop; thaw resumes it", async () => {
    const cg = manager();
    await cg.create();
    const { pid, go } = spawnGated("sh -c 'while :; do :; done'");
    await cg.addProcess(pid);
    go();
    await sleep(100);
    await cg.freeze();
    assert.equal(await cg.isFrozen(), true);
    assert.match(readFileSync(join(cg.path, "cgroup.events"), "utf8"), /^frozen 1$/m);
    const t0 = cpuTicks(pid);
    await sleep(300);
    assert.equal(cpuTicks(pid), t0, "no CPU time while frozen");
    await cg.thaw();
    assert.equal(await cg.isFrozen(), false);
    await waitFor("the loop to run again once thawed", () => cpuTicks(pid) > t0);
    await cg.freeze();
    await cg.destroy(); // frozen processes are killed too
    assert.ok(!existsSync(cg.path));
  });

  test("killAll with a signal, and destroy of a process tree", async () => {
    const cg = manager();
    await cg.create();
    const a = spawnGated("sleep 30");
    await cg.addProcess(a.pid);
    await cg.killAll("SIGTERM");
    assert.equal((await exitOf(a.child)).signal, "SIGTERM");
    const b = spawnGated("sh -c 'sleep 30 & sleep 30 & wait'");
    await cg.addProcess(b.pid);
    b.go();
    await sleep(100);
    assert.equal((await cg.pids()).length, 3);
    await cg.destroy();
    assert.equal((await exitOf(b.child)).signal, "SIGKILL");
    await cg.destroy(); // idempotent
  });

  test("the device program: host disks refused, /dev/null works, mknod allowed", async () => {
    // A host block device as a node of our own in a tmp dir (what container root could make
    // with CAP_MKNOD): the first in /proc/partitions that this host lets root open (some
    // sandboxes deny their own disk), or loop0.
    const dir = mkdtempSync(join(tmpdir(), "corral-dev-"));
    const candidates = readFileSync("/proc/partitions", "utf8")
      .split("\n")
      .slice(2)
      .map((line) => line.trim().split(/\s+/).slice(0, 2).join(" "))
      .concat("7 0");
    const opens = (dev: string): boolean =>
      spawnSync(
        "sh",
        [
          "-c",
          `mknod ${dir}/probe b ${dev} && head -c1 ${dir}/probe; rc=$?; rm -f ${dir}/probe; exit $rc`,
        ],
        { stdio: "ignore" },
      ).status === 0;
    const [major, minor] = (candidates.find(opens) ?? "").split(" ");
    assert.ok(major && minor, "a block device root can open on this host");
    const script = [
      "read _",
      `mknod ${dir}/disk b ${major} ${minor} && echo mknod-ok`,
      `head -c1 ${dir}/disk >/dev/null && echo disk-read`,
      "echo x > /dev/null && echo null-written",
      "head -c4 /dev/zero | wc -c",
    ].join("\n");
    // stdout and stderr apart: two pipes give no order between them.
    const run = async (cg?: V2CgroupManager): Promise<{ out: string; err: string }> => {
      const child = spawn("sh", ["-c", script], { stdio: ["pipe", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      if (cg) await cg.addProcess(child.pid ?? 0);
      child.stdin.end("\n");
      await exitOf(child);
      rmSync(join(dir, "disk"), { force: true });
      return { out, err };
    };
    try {
      // Outside the container's cgroup, root opens the node: the program is what stops it.
      assert.match((await run()).out, /mknod-ok\ndisk-read\nnull-written\n\s*4\n/);
      const cg = manager();
      await cg.create();
      const { out, err } = await run(cg);
      assert.match(out, /^mknod-ok\nnull-written\n\s*4\n$/); // no disk-read
      assert.match(err, /disk.*: Operation not permitted/);
      await cg.destroy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a limit whose controller is unavailable is refused and leaves no cgroup", async (t) => {
    if (available().has("memory")) {
      t.skip("this cgroup2 mount has the memory controller");
      return;
    }
    const cg = manager();
    await assert.rejects(
      cg.create({ memoryBytes: 64 * MiB }),
      (err: unknown) =>
        err instanceof CgroupLimitError &&
        /cannot apply memoryBytes: the cgroup v2 memory controller is not available at /.test(
          err.message,
        ),
    );
    assert.ok(!existsSync(cg.path));
    await assert.rejects(cg.create({ pidsLimit: 10 }), /pids controller is not available/);
  });
});
