// Container networking with real containers: the default bridge, egress NAT, published ports,
// none and host. Traffic only goes to 127.0.0.1, to containers this test starts and to a
// network namespace of its own standing for another host (fixtures/netns.ts).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import { TEST_IMAGE_NAME } from "./fixtures/images.js";
import { createOutsideHost, type OutsideHost } from "./fixtures/netns.js";
import { freePort } from "./fixtures/registry.js";
import { startRuntime, type TestRuntime } from "./fixtures/runtime.js";

let runtime: TestRuntime;
let outside: OutsideHost;
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
    Ports: Record<string, { HostIp: string; HostPort: string }[] | null>;
  };
}

const inspect = (id: string): NetInspect => (JSON.parse(rt("inspect", id).out) as [NetInspect])[0];

/** busybox httpd serving "hello from <hostname>" on port 80. */
const WEB = [
  TEST_IMAGE_NAME,
  "sh",
  "-c",
  'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www',
];

async function get(url: string): Promise<string> {
  // The server may still be starting: retry for a few seconds.
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      return await res.text();
    } catch (err) {
      if (i >= 30) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function runDetached(...args: string[]): string {
  const r = rt("run", "-d", ...args);
  assert.equal(r.code, 0, r.err);
  return r.out.trim();
}

describe("bridge networking", () => {
  before(async () => {
    runtime = await startRuntime("network");
    outside = createOutsideHost();
  });
  after(() => {
    outside?.cleanup();
    runtime?.cleanup();
  });

  test("containers get an address on the bridge and reach each other; rm leaves no link or lease", () => {
    const a = runDetached(TEST_IMAGE_NAME, "sleep", "100");
    const info = inspect(a);
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
    // Links between containers carry 64 KiB frames; the way out has the uplink's MTU.
    const uplink = (
      JSON.parse(execFileSync("ip", ["-j", "route", "show", "default"], { encoding: "utf8" })) as {
        dev: string;
      }[]
    )[0]?.dev;
    const uplinkMtu = uplink ? readFileSync(`/sys/class/net/${uplink}/mtu`, "utf8").trim() : "1500";
    // (busybox's ip does not print route metrics: ask iproute2 in the container's namespace)
    const [withPid] = JSON.parse(rt("inspect", a).out) as [{ State: { Pid: number } }];
    const routes = execFileSync("nsenter", ["-t", String(withPid.State.Pid), "-n", "ip", "route"], {
      encoding: "utf8",
    });
    assert.match(routes, new RegExp(`^default via \\S+ dev eth0 mtu ${uplinkMtu}\\b`, "m"));
    assert.equal(rt("exec", a, "cat", "/sys/class/net/eth0/mtu").out.trim(), "65535");
    // As Docker on a network without IPv6: none on eth0, not even link-local; lo keeps ::1.
    assert.equal(rt("exec", a, "ip", "-6", "addr", "show", "dev", "eth0").out, "");
    assert.match(rt("exec", a, "ip", "-6", "addr", "show", "dev", "lo").out, /inet6 ::1\//);

    const ping = rt("run", "--rm", TEST_IMAGE_NAME, "ping", "-c", "1", "-W", "3", ip);
    assert.equal(ping.code, 0, ping.out + ping.err);
    assert.match(ping.out, /1 packets received/);

    const record = JSON.parse(
      readFileSync(join(runtime.base, "root", "containers", a, "container.json"), "utf8"),
    ) as { state: { networks: { hostVeth: string }[] } };
    const hostSide = record.state.networks[0]?.hostVeth ?? "";
    assert.ok(links().includes(hostSide));
    assert.equal(rt("rm", "-f", a).code, 0);
    assert.ok(!links().includes(hostSide), "the veth pair is gone");
    const leases = JSON.parse(
      readFileSync(join(runtime.base, "root", "network", "bridge.ipam.json"), "utf8"),
    ) as { leases: Record<string, string> };
    assert.deepEqual(leases.leases, {});
  });

  test("egress: a container reaches another host, which sees the host's address (NAT)", async () => {
    await outside.serveRemoteAddress(9000);
    const r = rt("run", "--rm", TEST_IMAGE_NAME, "sh", "-c", `nc ${outside.ip} 9000 </dev/null`);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), outside.hostIp, "the container's address is masqueraded");
  });

  test("-p publishes on 127.0.0.1, on the host's addresses (from another host) and on a random port", async () => {
    const fixed = await freePort();
    const loopbackOnly = await freePort();
    const web = runDetached(
      "--name",
      "web",
      "-h",
      "web",
      "-p",
      `${fixed}:80`,
      "-p",
      `127.0.0.1:${loopbackOnly}:80`,
      "-p",
      "80",
      ...WEB,
    );
    assert.equal(await get(`http://127.0.0.1:${fixed}/`), "hello from web\n");
    assert.equal(await get(`http://127.0.0.1:${loopbackOnly}/`), "hello from web\n");
    // From another host, through the host's address on the link to it.
    assert.equal(outside.fetchText(`http://${outside.hostIp}:${fixed}/`), "hello from web\n");
    assert.throws(
      () => outside.fetchText(`http://${outside.hostIp}:${loopbackOnly}/`),
      /ECONNREFUSED/,
      "a port published on 127.0.0.1 is not reachable from other hosts",
    );

    const ports = inspect(web).NetworkSettings.Ports["80/tcp"] ?? [];
    assert.equal(ports.length, 3);
    const random = ports.find(
      (p) => p.HostPort !== String(fixed) && p.HostPort !== String(loopbackOnly),
    );
    assert.ok(random && Number(random.HostPort) > 0);
    assert.equal(await get(`http://127.0.0.1:${random.HostPort}/`), "hello from web\n");
    const ps = rt("ps", "--format", "json");
    const row = ps.out
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { Names: string; Ports: string })
      .find((x) => x.Names === "web");
    assert.match(row?.Ports ?? "", new RegExp(`0\\.0\\.0\\.0:${fixed}->80/tcp`));
    assert.match(row?.Ports ?? "", new RegExp(`127\\.0\\.0\\.1:${loopbackOnly}->80/tcp`));

    // A container reaches a published port through the host, too (hairpin).
    const gateway = inspect(web).NetworkSettings.Gateway;
    const hairpin = rt("exec", web, "wget", "-qO-", `http://${gateway}:${fixed}/`);
    assert.equal(hairpin.out, "hello from web\n", hairpin.err);

    // Stopped: the port is no longer published; started again: it is.
    assert.equal(rt("stop", "-t", "1", web).code, 0);
    await assert.rejects(
      fetch(`http://127.0.0.1:${fixed}/`, { signal: AbortSignal.timeout(2000) }),
    );
    assert.equal(rt("start", web).code, 0);
    assert.equal(await get(`http://127.0.0.1:${fixed}/`), "hello from web\n");
    assert.equal(rt("rm", "-f", web).code, 0);
    const table = execFileSync("nft", ["list", "ruleset"], { encoding: "utf8" });
    assert.ok(!table.includes(`dport ${fixed} `), "rm takes the DNAT rule away");
  });

  test("another host reaches only what is published: not a container's address, not a port on 127.0.0.1", async () => {
    const loopbackOnly = await freePort();
    const web = runDetached("-p", `127.0.0.1:${loopbackOnly}:80`, ...WEB);
    const { IPAddress: ip, Gateway: gateway } = inspect(web).NetworkSettings;
    assert.equal(
      await get(`http://127.0.0.1:${loopbackOnly}/`),
      `hello from ${web.slice(0, 12)}\n`,
    );
    const subnet = `${gateway.split(".").slice(0, 2).join(".")}.0.0/16`;
    // A neighbour routes the containers' subnet through this host (Docker < 28 let it in).
    outside.run(["ip", "route", "add", subnet, "via", outside.hostIp]);
    // A neighbour sends to 127.0.0.1 through this host (Docker < 28 let it reach ports
    // published on 127.0.0.1): its own loopback out of the way, its link allowed to carry it.
    outside.run(["ip", "link", "set", "lo", "down"]);
    outside.run(["ip", "route", "add", "127.0.0.1/32", "via", outside.hostIp]);
    outside.run(["sysctl", "-qw", `net.ipv4.conf.${outside.link}.route_localnet=1`]);
    try {
      assert.throws(
        () => outside.fetchText(`http://${ip}:80/`),
        /timeout/,
        "a container's address is not routed to",
      );
      assert.throws(
        () => outside.fetchText(`http://127.0.0.1:${loopbackOnly}/`),
        /timeout/,
        "a port published on 127.0.0.1 is not reachable from the link",
      );
      // The container still reaches that host, and answers come back.
      await outside.serveRemoteAddress(9001);
      const out = rt("exec", web, "sh", "-c", `nc ${outside.ip} 9001 </dev/null`);
      assert.equal(out.out.trim(), outside.hostIp, out.err);
    } finally {
      outside.run(["ip", "route", "del", subnet]);
      outside.run(["ip", "route", "del", "127.0.0.1/32"]);
      outside.run(["ip", "link", "set", "lo", "up"]);
      rt("rm", "-f", web);
    }
  });

  test("-P publishes every exposed port; a host port in use is refused and the container not started", async () => {
    const a = runDetached("--expose", "80", "-P", ...WEB);
    const ports = inspect(a).NetworkSettings.Ports;
    const hostPort = ports["80/tcp"]?.[0]?.HostPort;
    assert.ok(hostPort, JSON.stringify(ports));
    assert.match(await get(`http://127.0.0.1:${hostPort}/`), /^hello from/);

    const busy = createServer();
    const port = await freePort();
    await new Promise<void>((r) => busy.listen(port, "0.0.0.0", r));
    try {
      const r = rt("run", "-d", "--name", "clash", "-p", `${port}:80`, ...WEB);
      assert.equal(r.code, 125);
      assert.match(
        r.err,
        new RegExp(`Bind for 0\\.0\\.0\\.0:${port} failed: port is already allocated`),
      );
      assert.equal(r.err.trim().split("\n").length, 1, "one line");
      // As Docker: the container stays created, with the reason, and holds no address.
      const [c] = JSON.parse(rt("inspect", "clash").out) as [
        { State: { Status: string; Error: string }; NetworkSettings: { Ports: object } },
      ];
      assert.equal(c.State.Status, "created");
      assert.match(c.State.Error, /port is already allocated/);
      assert.deepEqual(c.NetworkSettings.Ports, {});
      const line = rt("ps", "-a")
        .out.split("\n")
        .find((l) => l.endsWith(" clash"));
      assert.match(line ?? "", /\bCreated\b/);
      // The same port twice in one runtime is refused too.
      const second = rt("run", "-d", "-p", `${hostPort}:80`, ...WEB);
      assert.equal(second.code, 125);
      assert.match(second.err, /already allocated/);
    } finally {
      busy.close();
    }
    const bad = rt("run", "--rm", "-p", "70000:80", TEST_IMAGE_NAME, "true");
    assert.equal(bad.code, 125);
    assert.match(bad.err, /invalid port "70000"/);
  });

  test("--network none has loopback only; --network host shares the host's interfaces and name", () => {
    const none = rt("run", "--rm", "--network", "none", TEST_IMAGE_NAME, "ls", "/sys/class/net");
    assert.equal(none.out, "lo\n");
    const host = rt(
      "run",
      "--rm",
      "--network",
      "host",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "ls /sys/class/net; echo name=$(hostname)",
    );
    assert.equal(host.code, 0, host.err);
    const names = host.out.trim().split("\n");
    for (const l of links()) if (!l.startsWith("vs")) assert.ok(names.includes(l), `${l} visible`);
    assert.ok(names.includes(`name=${hostname()}`));
    const refused = rt("run", "--rm", "--network", "host", "-p", "80:80", TEST_IMAGE_NAME, "true");
    assert.equal(refused.code, 125);
    assert.match(refused.err, /ports cannot be published with --network host/);
  });
});
