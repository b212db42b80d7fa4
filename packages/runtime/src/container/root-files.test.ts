import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S_IFCHR, mknod } from "../syscall/index.js";
import { processStartTime } from "../util/proc.js";
import { openMountTarget, openProcessRoot, openRoot, readFileInRoot } from "./root-files.js";

let root: string;
let rootFd: number;
const outside = mkdtempSync(join(tmpdir(), "corral-root-files-outside-"));

before(() => {
  root = mkdtempSync(join(tmpdir(), "corral-root-files-"));
  mkdirSync(join(root, "etc"));
  rootFd = openRoot(root);
});

after(() => {
  closeSync(rootFd);
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

test("a file is read inside the root; missing is undefined", () => {
  writeFileSync(join(root, "etc/group"), "root:x:0:\n");
  assert.equal(readFileInRoot(rootFd, "/etc/group"), "root:x:0:\n");
  assert.equal(readFileInRoot(rootFd, "/etc/nothing"), undefined);
});

test("an absolute symlink resolves inside the root, never to the host's file", () => {
  writeFileSync(join(outside, "passwd"), "host:x:1:1::/:/bin/sh\n");
  symlinkSync(join(outside, "passwd"), join(root, "etc/passwd"));
  assert.equal(readFileInRoot(rootFd, "/etc/passwd"), undefined);
  mkdirSync(join(root, outside), { recursive: true });
  writeFileSync(join(root, outside, "passwd"), "mine:x:2:2::/:/bin/sh\n");
  assert.equal(readFileInRoot(rootFd, "/etc/passwd"), "mine:x:2:2::/:/bin/sh\n");
  rmSync(join(root, "etc/passwd"));
});

test("a device, a directory or a file over the cap is refused in one line", () => {
  symlinkSync("/dev/zero", join(root, "etc/zero"));
  assert.equal(readFileInRoot(rootFd, "/etc/zero"), undefined, "the host's /dev/zero is not here");
  mkdirSync(join(root, "dev"));
  mknod(join(root, "dev/zero"), S_IFCHR | 0o666, 1, 5); // needs root, as the container's has
  assert.throws(
    () => readFileInRoot(rootFd, "/etc/zero"),
    /^Error: \/etc\/zero in the container is not a regular file$/,
  );
  assert.throws(
    () => readFileInRoot(rootFd, "/etc"),
    /^Error: \/etc in the container is not a regular file$/,
  );
  writeFileSync(join(root, "etc/big"), Buffer.alloc(100));
  assert.throws(() => readFileInRoot(rootFd, "/etc/big", 99), /larger than 99 bytes/);
  assert.equal(readFileInRoot(rootFd, "/etc/big", 100)?.length, 100);
});

test("a process root is opened only for the process that started at the given time", () => {
  const startTime = processStartTime("self");
  closeSync(openProcessRoot(process.pid, startTime));
  assert.throws(
    () => openProcessRoot(process.pid, `${startTime}0`),
    new RegExp(`process ${process.pid} is not the container's any more`),
  );
});

test("a mount target is made inside the root, through symlinks that point out of it", () => {
  symlinkSync(join(outside, "data"), join(root, "escape"));
  symlinkSync("../escape/file", join(root, "etc/relative"));
  const dir = openMountTarget(rootFd, "/escape/sub", "dir");
  assert.equal(readlinkSync(`/proc/self/fd/${dir}`), join(root, outside, "data/sub"));
  closeSync(dir);
  const file = openMountTarget(rootFd, "/etc/relative", "file");
  assert.equal(readlinkSync(`/proc/self/fd/${file}`), join(root, outside, "data/file"));
  closeSync(file);
  assert.deepEqual(readdirSync(outside).sort(), ["passwd"], "nothing made on the host's path");
});
