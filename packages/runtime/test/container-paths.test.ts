// Paths the container controls, used by the host: exec -u reads the container's own account
// files (never through a link to a host file, never a device), volume targets resolve inside
// the root; plus the defaults a careful operator expects (--tmpfs, capabilities of -u).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { lgetxattr } from "../src/syscall/index.js";
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

  test("a new volume starts with a copy of the image's files at its target; nocopy skips it", async () => {
    const images = await buildTestImages(join(runtime.base, "images"));
    // \x01\0\0\x02 (v2), cap_net_raw (13) permitted: valid UTF-8, so tar-stream writes it as is.
    const capability = Buffer.from([1, 0, 0, 2, 0, 0x20, 0, 0, ...Array<number>(12).fill(0)]);
    const layer = await makeTar([
      { header: { name: "srv/www/", type: "directory", mode: 0o750, uid: 33, gid: 33 } },
      {
        header: {
          name: "srv/www/ping",
          mode: 0o755,
          pax: {
            "SCHILY.xattr.security.capability": capability.toString("latin1"),
            "SCHILY.xattr.user.origin": "image",
          },
        },
        content: "#!/bin/sh\n",
      },
      { header: { name: "srv/www/index.html", mode: 0o640, uid: 33, gid: 33 }, content: "hi\n" },
      { header: { name: "srv/www/same.html", type: "link", linkname: "srv/www/index.html" } },
    ]);
    const archive = await imageWithLayers(images, join(runtime.base, "www-image"), [layer]);
    assert.equal(rt("load", "-i", archive, "-t", "corral-test/www:1").code, 0);

    const first = rt(
      "run",
      "--rm",
      "-v",
      "site:/srv/www",
      "corral-test/www:1",
      "cat",
      "/srv/www/index.html",
    );
    assert.equal(first.code, 0, first.err);
    assert.equal(first.out, "hi\n");
    const data = join(runtime.base, "root/volumes/site/_data");
    const root = statSync(data);
    assert.deepEqual(
      [root.mode & 0o7777, root.uid, root.gid],
      [0o750, 33, 33],
      "the dir's owner and mode",
    );
    const index = statSync(join(data, "index.html"));
    assert.deepEqual([index.mode & 0o7777, index.uid, index.gid, index.nlink], [0o640, 33, 33, 2]);
    assert.equal(statSync(join(data, "same.html")).ino, index.ino, "hard links stay links");
    assert.deepEqual(lgetxattr(join(data, "ping"), "security.capability"), capability);
    assert.equal(lgetxattr(join(data, "ping"), "user.origin")?.toString(), "image");

    // Not empty any more: what the containers do to it stays, nothing is copied again.
    assert.equal(
      rt("run", "--rm", "-v", "site:/srv/www", "corral-test/www:1", "rm", "/srv/www/ping").code,
      0,
    );
    const again = rt("run", "--rm", "-v", "site:/srv/www", "corral-test/www:1", "ls", "/srv/www");
    assert.equal(again.out, "index.html\nsame.html\n");

    const bare = rt(
      "run",
      "--rm",
      "-v",
      "bare:/srv/www:nocopy",
      "corral-test/www:1",
      "ls",
      "-A",
      "/srv/www",
    );
    assert.equal(bare.code, 0, bare.err);
    assert.equal(bare.out, "");
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
