// User-defined networks with real containers: isolation, connect/disconnect, removal, and
// what is left after rm, network rm and a daemon killed with -9 (nothing). Traffic only goes to
// containers this test starts and to 127.0.0.1.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TEST_IMAGE_NAME } from "./fixtures/images.js";
import { freePort } from "./fixtures/registry.js";
import { startRuntime, type TestRuntime } from "./fixtures/runtime.js";
import { tableName } from "../src/network/nftables.js";

let runtime: TestRuntime;
const rt = (...args: string[]): ReturnType<TestRuntime["rt"]> => runtime.rt(...args);

interface NetworkView {
  Id: string;
  Name: string;
  IPAM: { Config: { Subnet: string; Gateway: string }[] };
  Options: Record<string, string>;
  Containers: Record<string, { Name: string; IPv4Address: string }>;
}

/** busybox httpd on port 80 answering "up". */
const WEB_UP = [
  TEST_IMAGE_NAME,
  "sh",
  "-c",
  "mkdir /www && echo up > /www/index.html && exec httpd -f -p 80 -h /www",
];

const ok = (r: ReturnType<TestRuntime["rt"]>): string => {
  assert.equal(r.code, 0, r.err);
  return r.out.trim();
};
const network = (name: string): NetworkView =>
  (JSON.parse(ok(rt("network", "inspect", name))) as [NetworkView])[0];
const ipOn = (container: string, net: string): string => {
  const [c] = JSON.parse(ok(rt("inspect", container))) as [
    { NetworkSettings: { Networks: Record<string, { IPAddress: string }> } },
  ];
  return c.NetworkSettings.Networks[net]?.IPAddress ?? "";
};
const reaches = (from: string, ip: string): boolean =>
  rt("exec", from, "ping", "-c", "1", "-W", "1", ip).code === 0;

const bridgePrefix = (): string =>
  `cr${createHash("sha256").update(join(runtime.base, "root")).digest("hex").slice(0, 5)}`;

/** What the runtime holds on the host: links, rules and leases, to compare before and after. */
function footprint(): {
  links: string[];
  /** veths of pool slots that no longer exist (a slot's veth is `vs` + its first 12 characters) */
  strayPoolLinks: string[];
  rules: string;
  leases: Record<string, unknown>;
} {
  // This runtime's links only (other tests may run their own): its bridges and what is on them.
  const prefix = bridgePrefix();
  const all = (
    JSON.parse(execFileSync("ip", ["-j", "link", "show"], { encoding: "utf8" })) as {
      ifname: string;
      master?: string;
    }[]
  )
    .filter((l) => l.ifname.startsWith(prefix) || l.master?.startsWith(prefix))
    .map((l) => l.ifname)
    .sort();
  const links = all.filter((l) => !l.startsWith("vs"));
  const slotsDir = join(runtime.base, "run", "slots");
  const slots = existsSync(slotsDir) ? readdirSync(slotsDir).map((s) => `vs${s.slice(0, 12)}`) : [];
  const strayPoolLinks = all.filter((l) => l.startsWith("vs") && !slots.includes(l));
  let rules = "";
  try {
    rules = execFileSync(
      "nft",
      ["list", "chain", "ip", tableName(join(runtime.base, "root"), false), "published"],
      { encoding: "utf8" },
    );
  } catch {
    // no table
  }
  const netDir = join(runtime.base, "root", "network");
  const leases: Record<string, unknown> = {};
  for (const n of ["bridge", "front", "back"]) {
    try {
      leases[n] = (
        JSON.parse(readFileSync(join(netDir, `${n}.ipam.json`), "utf8")) as { leases: unknown }
      ).leases;
    } catch {
      // no such network (yet)
    }
  }
  return {
    links,
    strayPoolLinks,
    rules: rules
      .split("\n")
      .filter((l) => l.includes("dnat"))
      .join("\n"),
    leases,
  };
}

describe("user-defined networks", () => {
  before(async () => {
    runtime = await startRuntime("netuser");
  });
  after(() => runtime?.cleanup());

  test("create, ls, inspect; bad names and clashing subnets are refused in one line", () => {
    ok(rt("network", "create", "front"));
    ok(rt("network", "create", "--subnet", "10.231.0.0/24", "back"));
    const ls = ok(rt("network", "ls", "--format", "json"))
      .split("\n")
      .map((l) => (JSON.parse(l) as { Name: string }).Name);
    assert.deepEqual(ls, ["bridge", "host", "none", "back", "front"]);
    const back = network("back");
    assert.deepEqual(back.IPAM.Config, [{ Subnet: "10.231.0.0/24", Gateway: "10.231.0.1" }]);
    const bridge = back.Options["com.docker.network.bridge.name"] ?? "";
    assert.ok(
      execFileSync("ip", ["-br", "addr", "show", bridge], { encoding: "utf8" }).includes(
        "10.231.0.1/24",
      ),
    );

    const dup = rt("network", "create", "front");
    assert.equal(dup.code, 1);
    assert.equal(dup.err, "corral-rt: network with name front already exists\n");
    const overlap = rt("network", "create", "--subnet", "10.231.0.128/25", "other");
    assert.match(overlap.err, /overlaps network back/);
    assert.match(rt("network", "create", "bad name").err, /invalid network name/);
    assert.match(rt("network", "create", "host").err, /reserved/);
    assert.match(
      rt("run", "--rm", "--network", "nowhere", TEST_IMAGE_NAME, "true").err,
      /network nowhere not found/,
    );
  });

  test("containers reach each other on their network and not across networks; connect and disconnect change that at once", () => {
    const f1 = ok(
      rt("run", "-d", "--name", "f1", "--network", "front", TEST_IMAGE_NAME, "sleep", "300"),
    );
    const f2 = ok(
      rt("run", "-d", "--name", "f2", "--network", "front", TEST_IMAGE_NAME, "sleep", "300"),
    );
    const b1 = ok(
      rt("run", "-d", "--name", "b1", "--network", "back", TEST_IMAGE_NAME, "sleep", "300"),
    );
    const plain = ok(rt("run", "-d", "--name", "plain", TEST_IMAGE_NAME, "sleep", "300"));
    assert.ok(reaches(f1, ipOn(f2, "front")));
    // Names: the embedded resolver on the network's gateway answers for names, aliases and
    // short ids of the network's containers, and only them.
    // The A answer of busybox's nslookup ("Name: x / Address: ip"), "" for none. A lookup that
    // should succeed is asked twice, as a stub resolver retries over UDP; the last output is
    // kept for the failure message.
    let lastLookup = "";
    const lookup = (from: string, name: string, expectFound = true): string => {
      for (let attempt = 0; attempt < (expectFound ? 2 : 1); attempt++) {
        const r = rt("exec", from, "nslookup", "-type=a", name);
        lastLookup = `nslookup ${name} from ${from.slice(0, 12)}: exit ${r.code}\n${r.out}${r.err}`;
        const ip = /^Name:\s*\S+\s*\nAddress:\s*([0-9.]+)/m.exec(r.out)?.[1];
        if (ip) return ip;
      }
      return "";
    };
    assert.equal(lookup(f1, "f2"), ipOn(f2, "front"));
    assert.equal(
      lookup(f1, "F2.front"),
      ipOn(f2, "front"),
      "case and the network suffix do not matter",
    );
    assert.equal(lookup(f1, f2.slice(0, 12)), ipOn(f2, "front"));
    assert.equal(lookup(f1, "b1", false), "", "names on another network do not resolve");
    assert.match(
      ok(rt("exec", f1, "cat", "/etc/resolv.conf")),
      /^nameserver 10\.|^nameserver 172\.|^nameserver 192\./,
    );
    assert.ok(rt("exec", f1, "ping", "-c", "1", "-W", "2", "f2").code === 0, "ping by name");
    assert.match(ipOn(b1, "back"), /^10\.231\.0\./);
    assert.equal(reaches(f1, ipOn(b1, "back")), false, "front cannot reach back");
    assert.equal(reaches(plain, ipOn(f1, "front")), false, "the default bridge cannot reach front");

    ok(rt("network", "connect", "--alias", "db", "front", "b1"));
    const b1Front = ipOn(b1, "front");
    assert.ok(b1Front, "b1 has an address on front");
    assert.match(ok(rt("exec", b1, "ls", "/sys/class/net")), /eth1/);
    assert.equal(ok(rt("exec", b1, "ip", "-6", "addr", "show", "dev", "eth1")), "", "no IPv6");
    assert.ok(reaches(f1, b1Front), "f1 reaches b1 once connected");
    assert.equal(lookup(f1, "b1"), b1Front, `and resolves it (${lastLookup})`);
    assert.equal(lookup(f1, "db"), b1Front, `by its alias too (${lastLookup})`);
    assert.equal(Object.values(network("front").Containers).length, 3);
    assert.match(rt("network", "connect", "front", "b1").err, /already exists in network front/);

    ok(rt("network", "disconnect", "front", "b1"));
    assert.doesNotMatch(ok(rt("exec", b1, "ls", "/sys/class/net")), /eth1/);
    assert.equal(reaches(f1, b1Front), false);
    assert.equal(lookup(f1, "b1", false), "", "a disconnected container's name is gone at once");

    // Removing a network in use is refused; stopped containers count as users too.
    ok(rt("stop", "-t", "1", f2));
    const busy = rt("network", "rm", "front");
    assert.match(busy.err, /has active endpoints \(f1, f2\)/);
    for (const id of [f1, f2, b1, plain]) ok(rt("rm", "-f", id));
  });

  test("a container whose first network is a user network reaches its own published port through the host (hairpin)", async () => {
    const port = await freePort();
    const web = ok(rt("run", "-d", "--network", "back", "-p", `${port}:80`, ...WEB_UP));
    try {
      const gateway = network("back").IPAM.Config[0]?.Gateway ?? "";
      let r = rt("exec", web, "timeout", "5", "wget", "-qO-", `http://${gateway}:${port}/`);
      for (let i = 0; i < 20 && r.out !== "up\n"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        r = rt("exec", web, "timeout", "5", "wget", "-qO-", `http://${gateway}:${port}/`);
      }
      assert.equal(r.out, "up\n", r.err);
    } finally {
      ok(rt("rm", "-f", web));
    }
  });

  test("concurrent starts on a small network: each address once, the rest refused in one line, no lease kept", async () => {
    // A /29: the gateway takes .1, five addresses (.2-.6) are left for seven containers.
    ok(rt("network", "create", "--subnet", "10.232.0.0/29", "tiny"));
    const runs = await Promise.all(
      Array.from({ length: 7 }, () =>
        runtime.rtAsync("run", "-d", "--network", "tiny", TEST_IMAGE_NAME, "sleep", "100"),
      ),
    );
    const started = runs.filter((r) => r.code === 0).map((r) => r.out.trim());
    const refused = runs.filter((r) => r.code !== 0);
    try {
      assert.equal(started.length, 5, runs.map((r) => r.err).join(""));
      for (const r of refused) {
        assert.equal(r.code, 125);
        assert.match(r.err, /^corral-rt: no free address in 10\.232\.0\.0\/29: .+\n$/);
      }
      const ips = started.map((id) => ipOn(id, "tiny")).sort();
      assert.deepEqual(ips, ["10.232.0.2", "10.232.0.3", "10.232.0.4", "10.232.0.5", "10.232.0.6"]);
      const inspected = network("tiny").Containers;
      assert.deepEqual(
        Object.values(inspected)
          .map((c) => c.IPv4Address.split("/")[0])
          .sort(),
        ips,
      );
      // The refused ones hold nothing: the one on .4 goes, and a new container gets .4, the
      // only free address.
      const removeOn = (ip: string): void => {
        const id = started.find((c) => ipOn(c, "tiny") === ip) ?? "";
        ok(rt("rm", "-f", id));
        started.splice(started.indexOf(id), 1);
      };
      const runOne = (): string => {
        const id = ok(rt("run", "-d", "--network", "tiny", TEST_IMAGE_NAME, "sleep", "100"));
        started.push(id);
        return id;
      };
      removeOn("10.232.0.4");
      assert.equal(ipOn(runOne(), "tiny"), "10.232.0.4");
      // Round-robin, as Docker: with .3 and .6 free, the next address after the last one
      // handed out (.4) is .6; the just-freed lower .3 waits its turn.
      removeOn("10.232.0.3");
      removeOn("10.232.0.6");
      assert.equal(ipOn(runOne(), "tiny"), "10.232.0.6");
      assert.equal(ipOn(runOne(), "tiny"), "10.232.0.3");
    } finally {
      for (const r of refused) {
        const id = /[0-9a-f]{64}/.exec(r.out)?.[0];
        if (id) rt("rm", "-f", id);
      }
      for (const id of started) ok(rt("rm", "-f", id));
      for (const id of ok(rt("ps", "-a", "-q"))
        .split("\n")
        .filter(Boolean))
        rt("rm", "-f", id);
    }
    ok(rt("network", "rm", "tiny"));
    const leases = join(runtime.base, "root", "network", "tiny.ipam.json");
    assert.ok(!existsSync(leases), "the network's leases went with it");
  });

  test("--network with the id of the host network is --network host", () => {
    const hostId = network("host").Id;
    const c = ok(rt("create", "--network", hostId.slice(0, 12), TEST_IMAGE_NAME, "true"));
    try {
      const [view] = JSON.parse(ok(rt("inspect", c))) as [{ HostConfig: { NetworkMode: string } }];
      assert.equal(view.HostConfig.NetworkMode, "host");
    } finally {
      ok(rt("rm", "-f", c));
    }
  });

  test("no leftovers after rm and network rm; a daemon killed with -9 comes back with addresses and ports, and clears what a crash left", async () => {
    const before = footprint();
    const port = await freePort();
    const web = ok(rt("run", "-d", "--network", "back", "-p", `127.0.0.1:${port}:80`, ...WEB_UP));
    const ip = ipOn(web, "back");
    const fetchIt = async (): Promise<string> => {
      for (let i = 0; ; i++) {
        try {
          return await (
            await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) })
          ).text();
        } catch (err) {
          if (i > 30) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    assert.equal(await fetchIt(), "up\n");

    // A crash: the daemon dies with -9, and a stray bridge and lease are left as if a removed
    // network and container had not been cleaned up.
    process.kill(runtime.daemonPid(), "SIGKILL");
    const strayBridge = `${bridgePrefix()}deadbeef`;
    execFileSync("ip", ["link", "add", strayBridge, "type", "bridge"]);
    const ipamFile = join(runtime.base, "root", "network", "back.ipam.json");
    const ipam = JSON.parse(readFileSync(ipamFile, "utf8")) as { leases: Record<string, string> };
    ipam.leases["f".repeat(64)] = "10.231.0.200";
    writeFileSync(ipamFile, JSON.stringify(ipam));
    assert.equal(await fetchIt(), "up\n", "the port keeps working while no daemon runs");

    ok(rt("ps")); // starts a new daemon
    assert.equal(ipOn(web, "back"), ip, "the adopted container keeps its address");
    assert.equal(await fetchIt(), "up\n", "and its published port");
    const links = footprint().links;
    assert.ok(!links.includes(strayBridge), "the stray bridge is gone");
    const leases = (
      JSON.parse(readFileSync(ipamFile, "utf8")) as { leases: Record<string, string> }
    ).leases;
    assert.deepEqual(Object.values(leases), [ip], "only the running container's lease is left");
    const clash = rt("run", "-d", "-p", `127.0.0.1:${port}:80`, TEST_IMAGE_NAME, "true");
    assert.match(clash.err, /already allocated/, "the adopted port is held again");

    for (const id of ok(rt("ps", "-a", "-q"))
      .split("\n")
      .filter(Boolean))
      ok(rt("rm", "-f", id));
    assert.deepEqual(footprint(), before, "rm leaves no link, rule or lease behind");
    const backBridge = network("back").Options["com.docker.network.bridge.name"] ?? "";
    ok(rt("network", "rm", "front", "back"));
    assert.ok(!footprint().links.includes(backBridge), "network rm removes its bridge");
    assert.match(rt("network", "rm", "bridge").err, /pre-defined network/);
  });
});

describe("the default bridge from runtime.json's bip", () => {
  let configured: TestRuntime;
  const dir = mkdtempSync(join(tmpdir(), "corral-bip-"));
  before(async () => {
    const config = join(dir, "runtime.json");
    writeFileSync(config, JSON.stringify({ bip: "10.232.7.1/24" }));
    process.env.CORRAL_CONFIG = config;
    try {
      configured = await startRuntime("bip");
    } finally {
      delete process.env.CORRAL_CONFIG;
    }
  });
  after(() => {
    configured?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test("containers get addresses in bip's subnet, with bip's address as gateway", () => {
    const r = configured.rt(
      "run",
      "--rm",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "ip -4 -o addr show eth0; ip route",
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /inet 10\.232\.7\.[0-9]+\/24/);
    assert.match(r.out, /default via 10\.232\.7\.1 dev eth0/);
  });
});
