import assert from "node:assert/strict";
import { test } from "node:test";
import {
  HostStatsReader,
  cpuPercentBetween,
  parseLoadavg,
  parseMeminfo,
  parseProcStat,
} from "./host-stats.ts";
import { hostAddresses, osName } from "./facts.ts";

const stat = (user: number, idle: number) =>
  [
    `cpu  ${user} 0 ${user} ${idle} 0 0 0 0 0 0`,
    `cpu0 ${user / 2} 0 ${user / 2} ${idle / 2} 0 0 0 0 0 0`,
    `cpu1 ${user / 2} 0 ${user / 2} ${idle / 2} 0 0 0 0 0 0`,
    "intr 1 2 3",
    "ctxt 5",
  ].join("\n");

test("/proc/stat: busy is every field but idle and iowait; guest time is not counted twice", () => {
  assert.deepEqual(parseProcStat("cpu  10 1 5 100 4 1 1 2 7 7\ncpu0 1 1 1 1 1 1 1 1\n"), {
    busy: 20,
    total: 124,
  });
  assert.throws(() => parseProcStat("intr 1\n"), /no aggregate cpu line/);
});

test("CPU % between two reads of the whole machine", () => {
  assert.equal(cpuPercentBetween({ busy: 100, total: 1000 }, { busy: 150, total: 1100 }), 50);
  assert.equal(cpuPercentBetween({ busy: 1, total: 10 }, { busy: 1, total: 10 }), 0);
});

test("/proc/meminfo: used is total minus available; old kernels fall back to free + cache", () => {
  const now = "MemTotal:        4000 kB\nMemFree:    1000 kB\nMemAvailable:    3000 kB\n";
  assert.deepEqual(parseMeminfo(now), { totalBytes: 4000 * 1024, availableBytes: 3000 * 1024 });
  const old = "MemTotal: 4000 kB\nMemFree: 1000 kB\nBuffers: 100 kB\nCached: 400 kB\n";
  assert.equal(parseMeminfo(old).availableBytes, 1500 * 1024);
});

test("/proc/loadavg", () => {
  assert.deepEqual(parseLoadavg("0.52 0.40 0.31 2/345 6789\n"), [0.52, 0.4, 0.31]);
});

test("a sample covers the time since the previous one", () => {
  const files: Record<string, string> = {
    "/proc/stat": stat(100, 900),
    "/proc/meminfo": "MemTotal: 2000 kB\nMemAvailable: 500 kB\n",
    "/proc/loadavg": "1.5 1.0 0.5 1/100 42\n",
  };
  const reader = new HostStatsReader({ stateRoot: "/", read: (p) => files[p] as string });
  files["/proc/stat"] = stat(200, 1000); // +200 busy (user+system), +100 idle
  const s = reader.sample();
  assert.equal(Math.round(s.cpuPercent * 100) / 100, 66.67);
  assert.equal(s.cpus, 2);
  assert.equal(s.memoryUsedBytes, 1500 * 1024);
  assert.equal(s.memoryTotalBytes, 2000 * 1024);
  assert.deepEqual([s.load1, s.load5, s.load15], [1.5, 1, 0.5]);
  assert.ok(s.diskTotalBytes > 0 && s.diskUsedBytes > 0 && s.diskUsedBytes <= s.diskTotalBytes);
});

test("this machine's real /proc parses into a valid sample", async () => {
  const { hostStatsSampleSchema } = await import("@corral/protocol");
  const reader = new HostStatsReader({ stateRoot: "/" });
  const s = hostStatsSampleSchema.parse(reader.sample());
  assert.ok(s.cpus >= 1 && s.memoryTotalBytes > s.memoryUsedBytes);
});

test("facts: the distribution's name, and only the host's own addresses", () => {
  assert.equal(
    osName('NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'),
    "Debian GNU/Linux 12 (bookworm)",
  );
  assert.equal(osName("PRETTY_NAME=Alpine\n"), "Alpine");
  const a = (address: string, family: "IPv4" | "IPv6" = "IPv4", internal = false) => ({
    address,
    family,
    internal,
    netmask: "",
    mac: "",
    cidr: null,
    ...(family === "IPv6" ? { scopeid: 0 } : {}),
  });
  assert.deepEqual(
    hostAddresses({
      lo: [a("127.0.0.1", "IPv4", true)],
      eth0: [a("192.0.2.2"), a("fd00::2", "IPv6"), a("fe80::1", "IPv6")],
      corral0: [a("172.20.0.1")],
      "corral-1a2b3c4d": [a("10.30.0.1")],
      cr8b8b28edf3: [a("172.21.0.1")],
      vs85b894678174: [a("fe80::2", "IPv6")],
      br0: [a("10.0.0.5")],
    } as never),
    ["192.0.2.2", "fd00::2", "10.0.0.5"],
  );
});
