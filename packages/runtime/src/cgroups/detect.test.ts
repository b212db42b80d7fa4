import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseLayout, detectCgroups } from "./detect.js";

const HYBRID = `22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

test("hybrid (v1 controllers + empty cgroup2 at unified) is v1", () => {
  const layout = detectCgroups(HYBRID);
  assert.equal(layout.kind, "v1");
  if (layout.kind !== "v1") return;
  assert.equal(layout.mounts.get("memory"), "/sys/fs/cgroup/memory");
  assert.equal(layout.mounts.get("name=systemd"), "/sys/fs/cgroup/systemd");
  assert.equal(layout.mounts.size, 9);
  assert.equal(layout.unified, "/sys/fs/cgroup/unified");
});

test("pure v2 is v2 at its mountpoint", () => {
  const layout = detectCgroups(
    "25 21 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
  );
  assert.deepEqual(layout, { kind: "v2", root: "/sys/fs/cgroup" });
});

test("systemd hybrid with only the named v1 hierarchy is v2", () => {
  const layout = detectCgroups(
    "30 22 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n" +
      "31 22 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n",
  );
  assert.deepEqual(layout, { kind: "v2", root: "/sys/fs/cgroup/unified" });
});

test("co-mounted controllers share a mountpoint; options and bind mounts are skipped", () => {
  const layout = detectCgroups(
    "31 30 0:28 /docker/abc /x/cpu rw - cgroup cgroup rw,cpu,cpuacct\n" +
      "32 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n" +
      "33 30 0:29 / /sys/fs/cgroup/net\\040cls rw - cgroup cgroup rw,net_cls,release_agent=/x,clone_children\n",
  );
  assert.equal(layout.kind, "v1");
  if (layout.kind !== "v1") return;
  assert.deepEqual(Object.fromEntries(layout.mounts), {
    cpu: "/sys/fs/cgroup/cpu,cpuacct",
    cpuacct: "/sys/fs/cgroup/cpu,cpuacct",
    net_cls: "/sys/fs/cgroup/net cls",
  });
});

test("no cgroup filesystem at all says what to mount", () => {
  assert.throws(() => detectCgroups("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"), /mount cgroup2/);
});

test("CORRAL_CGROUP2 picks the cgroup2 mount of a hybrid host, and only that", () => {
  const hybrid = detectCgroups(HYBRID);
  assert.equal(chooseLayout(hybrid, undefined), hybrid);
  assert.deepEqual(chooseLayout(hybrid, "/sys/fs/cgroup/unified"), {
    kind: "v2",
    root: "/sys/fs/cgroup/unified",
  });
  assert.throws(
    () => chooseLayout(hybrid, "/sys/fs/cgroup/memory"),
    /CORRAL_CGROUP2=\/sys\/fs\/cgroup\/memory is not this host's cgroup2 mount \(\/sys\/fs\/cgroup\/unified\)/,
  );
});
