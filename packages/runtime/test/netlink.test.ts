// The rtnetlink client against the real kernel: throwaway network namespaces (each held by an
// `unshare --net sleep`), a veth pair per namespace with its peer moved in, and a Node process
// inside that configures the peer as a container's init will. Checked with `ip -j`, as a user
// would; then timed against `nsenter ip -batch`, the way it was done before. Traffic only goes
// to the namespaces this test creates, on 198.18.0.0/15 (reserved for benchmarks, RFC 2544).
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { configureInterface, deleteLink } from "../src/network/netlink.js";
import { ipBatch, ipBatchIn, ipJson, linkExists } from "../src/network/iproute.js";
import { overlaps, parseSubnet, routeSubnets } from "../src/network/subnet.js";
import { CLONE_NEWNET, setns } from "../src/syscall/index.js";

const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
const NETLINK_MODULE = pathToFileURL(
  fileURLToPath(new URL("../src/network/netlink.ts", import.meta.url)),
).href;

interface Netns {
  pid: number;
  /** The host end of the veth pair; its peer (`peer`) is inside. */
  host: string;
  peer: string;
  /** Runs `ip -j ARGS` inside and parses the JSON. */
  ip<T>(...args: string[]): T;
  remove(): void;
}

const live = new Set<Netns>();
after(() => {
  for (const ns of live) ns.remove();
});

/** A network namespace with a veth peer in it, host end up; removed by `remove` or at the end. */
async function netnsWithVeth(mtu = 1500): Promise<Netns> {
  const sleeper: ChildProcess = spawn(
    "unshare",
    ["--net", "sh", "-c", "echo ready; exec sleep 600"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    sleeper.once("error", reject);
    sleeper.once("exit", (code) => reject(new Error(`unshare --net exited with ${code}`)));
    sleeper.stdout!.once("data", () => resolve());
  });
  sleeper.removeAllListeners("exit");
  const pid = sleeper.pid!;
  const id = randomBytes(4).toString("hex");
  const ns: Netns = {
    pid,
    host: `nlh${id}`,
    peer: `nlp${id}`,
    ip: <T>(...args: string[]) =>
      JSON.parse(
        execFileSync("nsenter", ["-t", String(pid), "-n", "ip", "-j", ...args], {
          encoding: "utf8",
        }) || "[]",
      ) as T,
    remove() {
      live.delete(ns);
      // Deleting the host end deletes the pair, now rather than when the namespace is reaped.
      if (linkExists(ns.host)) spawnSync("ip", ["link", "del", ns.host]);
      sleeper.kill("SIGKILL");
    },
  };
  live.add(ns);
  ipBatch([
    `link add ${ns.host} mtu ${mtu} type veth peer name ${ns.peer} mtu ${mtu}`,
    `link set ${ns.host} up`,
    `link set ${ns.peer} netns ${pid}`,
  ]);
  return ns;
}

/** Runs a small Node script inside the namespace, as the container's init will be. */
function nodeIn(ns: Netns, code: string): { code: number; out: string; err: string } {
  const r = spawnSync(
    "nsenter",
    [
      "-t",
      String(ns.pid),
      "-n",
      process.execPath,
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      code,
    ],
    { cwd: PACKAGE_DIR, encoding: "utf8", timeout: 60000 },
  );
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr.replace(/^npm warn.*\n/gm, "") };
}

function runConfigure(ns: Netns, op: object): { code: number; out: string; err: string } {
  return nodeIn(
    ns,
    `import * as nl from ${JSON.stringify(NETLINK_MODULE)};
     const op = ${JSON.stringify(op)};
     try {
       const result = op.addAddress ? nl.addAddress(...op.addAddress) : nl.configureInterface(op.configure);
       process.stdout.write(JSON.stringify(result ?? null));
     } catch (err) {
       process.stderr.write(err.message + "\\n");
       process.exit(1);
     }`,
  );
}

/** A /24 in 198.18.0.0/15 that no host route touches. */
function freeTestSubnet(): string {
  const taken = routeSubnets(ipJson<{ dst: string }[]>(["route", "show"]));
  for (;;) {
    const cidr = `198.${18 + (randomBytes(1)[0]! & 1)}.${randomBytes(1)[0]}.0/24`;
    if (!taken.some((t) => overlaps(t, parseSubnet(cidr)))) return cidr.replace(/\.0\/24$/, "");
  }
}

interface LinkJson {
  ifname: string;
  address: string;
  mtu: number;
  flags: string[];
  operstate: string;
  addr_info?: { family: string; local: string; prefixlen: number; broadcast?: string }[];
}

describe("rtnetlink in a network namespace", () => {
  test("configureInterface gives the veth peer a container's eth0: name, MAC, MTU, up, address, default route, lo up", async () => {
    const ns = await netnsWithVeth(1450);
    try {
      const net = freeTestSubnet();
      ipBatch([`addr add ${net}.1/24 dev ${ns.host}`]);
      const r = runConfigure(ns, {
        configure: {
          ifName: ns.peer,
          newName: "eth0",
          mac: "02:42:c6:12:00:05",
          mtu: 1450,
          address: `${net}.5`,
          prefixLen: 24,
          gateway: `${net}.1`,
        },
      });
      assert.equal(r.code, 0, r.err);
      const { index } = JSON.parse(r.out) as { index: number };

      const links = ns.ip<LinkJson[]>("addr", "show");
      assert.deepEqual(links.map((l) => l.ifname).sort(), ["eth0", "lo"], "the peer was renamed");
      const eth0 = links.find((l) => l.ifname === "eth0")!;
      assert.equal(eth0.address, "02:42:c6:12:00:05");
      assert.equal(eth0.mtu, 1450);
      assert.ok(eth0.flags.includes("UP") && eth0.flags.includes("LOWER_UP"), eth0.flags.join());
      assert.equal(eth0.operstate, "UP");
      const inet = eth0.addr_info?.filter((a) => a.family === "inet");
      assert.deepEqual(
        inet?.map((a) => [a.local, a.prefixlen, a.broadcast]),
        [[`${net}.5`, 24, `${net}.255`]],
      );
      const lo = links.find((l) => l.ifname === "lo")!;
      assert.ok(lo.flags.includes("UP"), "loopback is up");

      const [route] = ns.ip<Record<string, unknown>[]>("-d", "route", "show", "default");
      assert.deepEqual(
        [route?.gateway, route?.dev, route?.protocol, route?.scope, route?.type],
        [`${net}.1`, "eth0", "boot", "global", "unicast"],
        "as `ip route add default via` makes it",
      );
      assert.equal(ns.ip<{ ifindex: number }[]>("link", "show", "eth0")[0]?.ifindex, index);

      // It works: the namespace reaches the host end, and its own 127.0.0.1.
      for (const target of [`${net}.1`, "127.0.0.1"]) {
        const ping = spawnSync(
          "nsenter",
          ["-t", String(ns.pid), "-n", "busybox", "ping", "-c", "1", "-W", "3", target],
          { encoding: "utf8" },
        );
        assert.equal(ping.status, 0, `ping ${target}: ${ping.stdout}${ping.stderr}`);
      }
    } finally {
      ns.remove();
    }
  });

  test("a bad request fails with one line naming the request, its subject and the errno", async () => {
    const ns = await netnsWithVeth();
    try {
      const noLink = runConfigure(ns, { addAddress: [9999, "198.18.0.5", 24] });
      assert.equal(noLink.code, 1);
      assert.match(
        noLink.err,
        /^netlink RTM_NEWADDR ifindex 9999 198\.18\.0\.5\/24: ENODEV \(No such device[^\n]*\)\n$/,
      );

      const missing = runConfigure(ns, {
        configure: { ifName: "nosuchlink", address: "198.18.0.5", prefixLen: 24 },
      });
      assert.equal(missing.code, 1);
      assert.equal(missing.err, "netlink RTM_GETLINK nosuchlink: ENODEV (No such device)\n");

      // A gateway outside the link's subnet: everything before it is done, the route is refused.
      const unreachable = runConfigure(ns, {
        configure: {
          ifName: ns.peer,
          address: "198.18.0.5",
          prefixLen: 24,
          gateway: "198.19.0.1",
        },
      });
      assert.equal(unreachable.code, 1);
      assert.match(
        unreachable.err,
        new RegExp(
          `^netlink RTM_NEWROUTE default via 198\\.19\\.0\\.1 dev ${ns.peer}: ENETUNREACH \\(Network is unreachable[^\\n]*\\)\\n$`,
        ),
      );

      // The same address again (the failed call above had added it).
      const twice = runConfigure(ns, {
        configure: { ifName: ns.peer, address: "198.18.0.5", prefixLen: 24 },
      });
      assert.equal(twice.code, 1);
      assert.match(
        twice.err,
        new RegExp(
          `^netlink RTM_NEWADDR ${ns.peer} 198\\.18\\.0\\.5/24: EEXIST \\(File exists[^\\n]*\\)\\n$`,
        ),
      );

      const badMac = runConfigure(ns, {
        configure: { ifName: ns.peer, mac: "02:42", address: "198.18.0.5", prefixLen: 24 },
      });
      assert.equal(
        badMac.err,
        'invalid MAC address "02:42" (expected six hex pairs, e.g. 02:42:0a:58:00:05)\n',
      );
    } finally {
      ns.remove();
    }
  });

  test("deleteLink removes a veth from the host's side, its peer in the namespace with it", async () => {
    const ns = await netnsWithVeth();
    try {
      assert.ok(linkExists(ns.host));
      assert.equal(ns.ip<unknown[]>("link", "show", ns.peer).length, 1);
      deleteLink(ns.host);
      assert.ok(!linkExists(ns.host), "the host end is gone");
      assert.throws(() => ns.ip("link", "show", ns.peer), "the peer inside is gone too");
      assert.throws(
        () => deleteLink(ns.host),
        new RegExp(`^NetlinkError: netlink RTM_DELLINK ${ns.host}: ENODEV`),
      );
    } finally {
      ns.remove();
    }
  });

  test("timing: configureInterface in-process vs nsenter ip -batch, on pre-wired veths", async (t) => {
    const RUNS = 50;
    // As the init pool does, every namespace and veth is made before anything is timed: creating
    // and reaping namespaces holds the kernel's global rtnl lock and would be timed too.
    const viaNetlink: Netns[] = [];
    const viaIp: Netns[] = [];
    for (let i = 0; i < RUNS; i++) {
      viaNetlink.push(await netnsWithVeth());
      viaIp.push(await netnsWithVeth());
    }
    await sleep(500);
    const self = openSync("/proc/thread-self/ns/net", "r");
    const netlinkMs: number[] = [];
    const ipBatchMs: number[] = [];
    let coldMs = 0;
    try {
      for (let i = 0; i < RUNS; i++) {
        const mac = `02:42:c6:12:00:${(i + 2).toString(16).padStart(2, "0")}`;
        const address = `198.18.0.${i + 2}`;
        // Both ways in turn, so that load from elsewhere on the machine hits both alike.
        const a = viaNetlink[i]!;
        const fd = openSync(`/proc/${a.pid}/ns/net`, "r");
        try {
          // This (main) thread joins the namespace, as the init is in it; Node's other threads
          // stay where they are, and nothing is spawned until it is back.
          setns(fd, CLONE_NEWNET);
          try {
            const t0 = performance.now();
            configureInterface({
              ifName: a.peer,
              newName: "eth0",
              mac,
              mtu: 1500,
              address,
              prefixLen: 16,
              gateway: "198.18.0.1",
            });
            const ms = performance.now() - t0;
            if (i === 0) coldMs = ms;
            else netlinkMs.push(ms);
          } finally {
            setns(self, CLONE_NEWNET);
          }
        } finally {
          closeSync(fd);
        }

        const b = viaIp[i]!;
        const t0 = performance.now();
        // What NetworkManager.connect runs today.
        ipBatchIn(b.pid, [
          `link set ${b.peer} name eth0`,
          `link set eth0 address ${mac}`,
          `addr add ${address}/16 dev eth0`,
          `link set eth0 up`,
          `route add default via 198.18.0.1`,
        ]);
        ipBatchMs.push(performance.now() - t0);
      }
      for (const ns of [...viaNetlink, ...viaIp]) {
        const route = ns.ip<{ gateway?: string; dev?: string }[]>("route", "show", "default")[0];
        assert.deepEqual([route?.gateway, route?.dev], ["198.18.0.1", "eth0"]);
      }
    } finally {
      closeSync(self);
      for (const ns of [...viaNetlink, ...viaIp]) ns.remove();
    }
    const p = (xs: number[], q: number): string =>
      [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!.toFixed(2);
    const report =
      `configureInterface in-process: p50 ${p(netlinkMs, 0.5)} ms, p90 ${p(netlinkMs, 0.9)} ms ` +
      `(first call, loading koffi: ${coldMs.toFixed(2)} ms); ` +
      `nsenter ip -batch: p50 ${p(ipBatchMs, 0.5)} ms, p90 ${p(ipBatchMs, 0.9)} ms (${RUNS} runs each)`;
    t.diagnostic(report);
    assert.ok(Number(p(netlinkMs, 0.5)) < Number(p(ipBatchMs, 0.5)), report);
  });
});
