import { test } from "node:test";
import assert from "node:assert/strict";
import { deviceRule, parseDeviceFlag } from "./devices.js";

test("--device values as Docker parses them", () => {
  const d = (host: string, inside: string, perms: string) => ({
    pathOnHost: host,
    pathInContainer: inside,
    cgroupPermissions: perms,
  });
  assert.deepEqual(parseDeviceFlag("/dev/fuse"), d("/dev/fuse", "/dev/fuse", "rwm"));
  assert.deepEqual(parseDeviceFlag("/dev/loop0:/dev/xda"), d("/dev/loop0", "/dev/xda", "rwm"));
  assert.deepEqual(parseDeviceFlag("/dev/loop0:r"), d("/dev/loop0", "/dev/loop0", "r"));
  assert.deepEqual(parseDeviceFlag("/dev/loop0:/dev/xda:rw"), d("/dev/loop0", "/dev/xda", "rw"));
  for (const bad of [
    "",
    "dev/loop0",
    "/dev/a:/dev/b:rwx",
    "/dev/a:/dev/b:rr",
    "/a:/b:r:x",
    "/dev/a:rel",
  ]) {
    assert.throws(() => parseDeviceFlag(bad), /^Error: invalid device specification/);
  }
});

test("the cgroup rule comes from the host's node", () => {
  assert.equal(deviceRule(parseDeviceFlag("/dev/null:/dev/n:rw")), "c 1:3 rw");
  assert.throws(
    () => deviceRule(parseDeviceFlag("/etc/passwd")),
    /"\/etc\/passwd": not a device node/,
  );
  assert.throws(
    () => deviceRule(parseDeviceFlag("/dev/nope")),
    /"\/dev\/nope": no such file or directory/,
  );
});
