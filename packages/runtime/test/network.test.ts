// Container networking on the default bridge, with real containers. Traffic only goes to
// containers this test starts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TEST_IMAGE_NAME } from "./fixtures/images.js";
import { startRuntime, type TestRuntime } from "./fixtures/runtime.js";

let runtime: TestRuntime;
const rt = (...args: string[]): ReturnType<TestRuntime["rt"]> => runtime.rt(...args);
const links = (): string[] =>
  (
    JSON.parse(execFileSync("ip", ["-j", "link", "show"], { encoding: "utf8" })) as {
      ifname: string;
    }[]
  ).map((l) => l.ifname);

interface NetInspect {
  Config: { Hostname: string };
  NetworkSettings: {
    IPAddress: string;
    Gateway: string;
    MacAddress: string;
    Networks: Record<string, { IPAddress: string }>;
  };
}

describe("bridge networking", () => {
  before(async () => {
    runtime = await startRuntime("network");
  });
  after(() => runtime.cleanup());

  test("containers get an address on the bridge and reach each other; rm leaves no link or lease", () => {
    const a = rt("run", "-d", TEST_IMAGE_NAME, "sleep", "100").out.trim();
    const [info] = JSON.parse(rt("inspect", a).out) as [NetInspect];
    const ip = info.NetworkSettings.IPAddress;
    assert.match(ip, /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/);
    assert.equal(info.NetworkSettings.Networks.bridge?.IPAddress, ip);
    assert.match(info.NetworkSettings.MacAddress, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);

    const inside = rt(
      "exec",
      a,
      "sh",
      "-c",
      "ip -4 -o addr show eth0 | awk '{print $4}'; ip route | grep default; tail -1 /etc/hosts",
    );
    assert.equal(inside.code, 0, inside.err);
    const [cidr, route, hosts] = inside.out.trim().split("\n");
    assert.ok(cidr?.startsWith(`${ip}/`));
    assert.match(
      route ?? "",
      new RegExp(`^default via ${info.NetworkSettings.Gateway.replace(/\./g, "\\.")} dev eth0`),
    );
    assert.equal(hosts, `${ip}\t${info.Config.Hostname}`);

    const ping = rt("run", "--rm", TEST_IMAGE_NAME, "ping", "-c", "1", "-W", "3", ip);
    assert.equal(ping.code, 0, ping.out + ping.err);
    assert.match(ping.out, /1 packets received/);

    const record = JSON.parse(
      readFileSync(join(runtime.base, "root", "containers", a, "container.json"), "utf8"),
    ) as {
      state: { network: { hostVeth: string } };
    };
    const hostSide = record.state.network.hostVeth;
    assert.ok(links().includes(hostSide));
    assert.equal(rt("rm", "-f", a).code, 0);
    assert.ok(!links().includes(hostSide), "the veth pair is gone");
    const leases = JSON.parse(
      readFileSync(join(runtime.base, "root", "network", "bridge.ipam.json"), "utf8"),
    ) as {
      leases: Record<string, string>;
    };
    assert.deepEqual(leases.leases, {});
  });

  test("--network none gives loopback only; --network host is refused clearly", () => {
    const r = rt(
      "run",
      "--rm",
      "--network",
      "none",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "ls /sys/class/net",
    );
    assert.equal(r.out, "lo\n");
    const host = rt("run", "--rm", "--network", "host", TEST_IMAGE_NAME, "true");
    assert.equal(host.code, 125);
    assert.match(host.err, /--network host is not supported yet/);
  });
});
