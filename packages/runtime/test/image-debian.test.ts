// A real Debian 12 image, as Debian's own builder makes it: `mmdebstrap --variant=essential`
// (plus iputils-ping, whose /usr/bin/ping carries a file capability) gives a rootfs tar with
// /dev/console and friends and a security.capability PAX record. umoci wraps it as an OCI
// image, skopeo pushes it to a registry on 127.0.0.1, Corral pulls it, runs it, and pushes it
// again byte for byte. mmdebstrap downloads from the Debian mirror apt is configured with
// (~20-40 s); its tar is cached in the temp dir across runs.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { lgetxattr } from "../src/syscall/index.js";
import { pushWithSkopeo, startRegistry, type TestRegistry } from "./fixtures/registry.js";
import { startRuntime, type TestRuntime } from "./fixtures/runtime.js";

const run = promisify(execFile);
const CACHE = join(tmpdir(), "corral-test-cache");
const ROOTFS = join(CACHE, "debian12-essential-ping.tar");

let runtime: TestRuntime;
let registry: TestRegistry;
let name: string;

async function debianRootfs(): Promise<string> {
  if (existsSync(ROOTFS)) {
    if (statSync(ROOTFS).isFile()) return ROOTFS;
    await rm(ROOTFS, { recursive: true, force: true }); // an older run's directory, not a tar
  }
  await mkdir(CACHE, { recursive: true });
  // mmdebstrap picks its output format from the name, so the partial file ends in .tar too
  // (a name ending in .tar.PID made a directory); --format says it outright.
  const partial = join(CACHE, `debian12-essential-ping.${process.pid}.tar`);
  await run(
    "mmdebstrap",
    [
      "--variant=essential",
      "--format=tar",
      "--include=iputils-ping",
      "--mode=root",
      "--quiet",
      "bookworm",
      partial,
    ],
    { maxBuffer: 1 << 24 },
  ).catch((err: Error) => {
    throw new Error(
      `mmdebstrap failed (apt-get install mmdebstrap; needs the Debian mirror): ${err.message}`,
    );
  });
  await rename(partial, ROOTFS);
  return ROOTFS;
}

before(async () => {
  runtime = await startRuntime("debian");
  registry = await startRegistry();
  const rootfs = await debianRootfs();
  const layout = join(runtime.base, "debian-layout");
  await rm(layout, { recursive: true, force: true });
  await run("umoci", ["init", "--layout", layout]);
  await run("umoci", ["new", "--image", `${layout}:12`]);
  await run("umoci", ["raw", "add-layer", "--image", `${layout}:12`, rootfs]);
  await run("umoci", ["config", "--image", `${layout}:12`, "--config.cmd=/bin/sh"]);
  name = `${registry.host}/debian:12`;
  await pushWithSkopeo(`oci:${layout}:12`, name);
});

after(async () => {
  runtime?.cleanup();
  await registry?.stop();
});

test("a Debian image made by mmdebstrap (device nodes, file capabilities) pulls and runs", async () => {
  const pulled = runtime.rt("pull", name);
  assert.equal(pulled.code, 0, pulled.err);
  const r = runtime.rt(
    "run",
    "--rm",
    name,
    "sh",
    "-c",
    "cat /etc/debian_version; ping -c1 -W5 127.0.0.1 >/dev/null && echo ping ok",
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^12\.\d+\nping ok\n$/);

  // The layer as unpacked: /dev/console a real node, ping's capability kept with its raw bytes.
  const inspected = JSON.parse(runtime.rt("image", "inspect", name).out) as [
    { GraphDriver: { Data: { UpperDir: string } } },
  ];
  const layer = inspected[0].GraphDriver.Data.UpperDir;
  const { stdout } = await run("stat", ["-c", "%F %t:%T %a", join(layer, "dev/console")]);
  assert.equal(stdout, "character special file 5:1 666\n");
  const capability = lgetxattr(join(layer, "usr/bin/ping"), "security.capability");
  const { stdout: getcap } = await run("getcap", [join(layer, "usr/bin/ping")]);
  assert.ok(capability !== undefined, "ping keeps security.capability");
  assert.match(getcap, /cap_net_raw[=+]ep/);
});

test("the pulled image goes up again byte for byte: same config, same diff_ids", async () => {
  const again = `${registry.host}/debian-again:12`;
  assert.equal(runtime.rt("tag", name, again).code, 0);
  const pushed = runtime.rt("push", again);
  assert.equal(pushed.code, 0, pushed.err);
  const config = async (ref: string): Promise<string> =>
    (await run("skopeo", ["inspect", "--config", "--raw", "--tls-verify=false", `docker://${ref}`]))
      .stdout;
  assert.equal(await config(again), await config(name));
});
