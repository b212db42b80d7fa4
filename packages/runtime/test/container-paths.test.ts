// Paths the container controls, used by the host: exec -u reads the container's own account
// files (never through a link to a host file, never a device), volume targets resolve inside
// the root; plus the defaults a careful operator expects (--tmpfs, capabilities of -u).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildTestImages, imageWithLayers, TEST_IMAGE_NAME } from "./fixtures/images.js";
import { makeTar } from "./fixtures/archives.js";
import { CLI, startRuntime, type TestRuntime } from "./fixtures/runtime.js";

let runtime: TestRuntime;
const rt = (...args: string[]): ReturnType<TestRuntime["rt"]> => runtime.rt(...args);

describe("paths the container controls", () => {
  before(async () => {
    runtime = await startRuntime("paths");
  });

  after(() => runtime.cleanup());

  test("--tmpfs without options: noexec,nosuid,nodev and mode 1777, as Docker", () => {
    const r = rt(
      "run",
      "--rm",
      "--tmpfs",
      "/scratch",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "grep ' /scratch ' /proc/mounts | cut -d' ' -f4; stat -c %a /scratch",
    );
    assert.equal(r.code, 0, r.err);
    const [options = "", mode] = r.out.trim().split("\n");
    assert.deepEqual(
      options.split(",").filter((o) => /^(rw|nosuid|nodev|noexec)$/.test(o)),
      ["rw", "nosuid", "nodev", "noexec"],
    );
    assert.equal(mode, "1777");
  });

  test("exec -u NAME with /etc/passwd linked to /dev/zero fails at once, in one line", () => {
    const id = rt(
      "run",
      "-d",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "ln -sf /dev/zero /etc/passwd && echo ready && exec sleep 1000",
    ).out.trim();
    try {
      waitForLog(id, "ready");
      const r = rt("exec", "-u", "app", id, "id");
      assert.notEqual(r.code, 0);
      assert.match(r.err, /^[^\n]*\/etc\/passwd in the container is not a regular file\n$/);
    } finally {
      rt("rm", "-f", id);
    }
  });

  test("exec -u NAME: a link to an absolute path resolves in the container, not on the host", () => {
    const hostFile = join(runtime.base, "passwd-on-host");
    writeFileSync(hostFile, "ghost:x:4242:4242::/:/bin/sh\n");
    const id = rt(
      "run",
      "-d",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      `ln -sf ${hostFile} /etc/passwd && echo ready && exec sleep 1000`,
    ).out.trim();
    try {
      waitForLog(id, "ready");
      // The link points nowhere inside the container: no such user (the host's file is never read).
      const missing = rt("exec", "-u", "ghost", id, "id", "-u");
      assert.notEqual(missing.code, 0);
      assert.match(missing.err, /unable to find user ghost/);
      // Once the container has a file at that path, that one is read.
      const made = rt(
        "exec",
        id,
        "sh",
        "-c",
        `mkdir -p ${runtime.base} && echo ghost:x:5151:5151::/:/bin/sh > ${hostFile}`,
      );
      assert.equal(made.code, 0, made.err);
      const r = rt("exec", "-u", "ghost", id, "id", "-u");
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, "5151\n");
    } finally {
      rt("rm", "-f", id);
    }
  });

  test("a volume whose target is an image symlink to a host path is mounted inside the root", async () => {
    const outside = join(runtime.base, "outside");
    mkdirSync(outside);
    const images = await buildTestImages(join(runtime.base, "images"));
    const layer = await makeTar([
      { header: { name: "escape", type: "symlink", linkname: outside } },
    ]);
    const archive = await imageWithLayers(images, join(runtime.base, "escape-image"), [layer]);
    assert.equal(rt("load", "-i", archive, "-t", "corral-test/escape:1").code, 0);
    const r = rt(
      "run",
      "--rm",
      "-v",
      "escapevol:/escape",
      "corral-test/escape:1",
      "sh",
      "-c",
      `echo inside > /escape/proof && ls ${outside}/proof`,
    );
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `${outside}/proof\n`, "the link's target inside the container");
    assert.deepEqual(readdirSync(outside), [], "nothing mounted or written on the host's path");
  });

  test("-u 1000 keeps no capability, not even inheritable ones the daemon had", () => {
    // A daemon started with every capability inheritable: its containers must not inherit them.
    const daemon = runtime.daemonPid();
    process.kill(daemon, "SIGTERM");
    for (let i = 0; i < 200 && isAlive(daemon); i++) spawnSync("sleep", ["0.05"]);
    const r = spawnSync(
      "setpriv",
      [
        "--inh-caps=+net_raw,+sys_admin,+dac_override",
        process.execPath,
        CLI,
        "run",
        "--rm",
        "-u",
        "1000",
        TEST_IMAGE_NAME,
        "grep",
        "^Cap",
        "/proc/self/status",
      ],
      { env: runtime.env, encoding: "utf8", timeout: 60000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const caps = Object.fromEntries(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(/:\s+/)),
    );
    assert.equal(caps.CapInh, "0000000000000000");
    assert.equal(caps.CapPrm, "0000000000000000");
    assert.equal(caps.CapEff, "0000000000000000");
    assert.equal(caps.CapAmb, "0000000000000000");
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until the running container `id` has logged `line` (its setup is done). */
function waitForLog(id: string, line: string): void {
  for (let i = 0; i < 200; i++) {
    if (rt("logs", id).out.split("\n").includes(line)) return;
    spawnSync("sleep", ["0.05"]);
  }
  assert.fail(`container ${id} never logged ${line}`);
}
