// bench:network: the network step of a container start, and TCP throughput between two
// containers across a Corral bridge against the host's loopback, in the same run.
//
// Network namespaces here are what a pooled init has (an `unshare --net` process with the
// pre-wired veth whose other end is eth0 inside); the network step is what a start does with
// it: the daemon's part (address, ports, firewall: NetworkManager.connectAtStart) and the
// init's part (eth0 over rtnetlink: configureInterface, run in a Node process inside the
// namespace, warmed up as the pooled init is). The reference is the way before this change:
// one `nsenter ip -batch` process doing the same configuration.
// Throughput uses iperf3 (Debian's) inside the namespaces (nsenter -n), container to container
// across the bridge, and host loopback, alternating, 3 runs of 4 s each.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { NetworkManager } from "../dist/network/manager.js";
import { deleteTable, tableName } from "../dist/network/nftables.js";
import { now, summarize } from "./lib.js";

const RUNS = 30;
const NETLINK = fileURLToPath(new URL("../dist/network/netlink.js", import.meta.url));
const RESULTS = fileURLToPath(new URL("../../../bench/results/network.md", import.meta.url));

function ensureIperf(): void {
  try {
    execFileSync("iperf3", ["--version"], { stdio: "ignore" });
  } catch {
    execFileSync("apt-get", ["install", "-y", "-q", "iperf3"], { stdio: "inherit" });
  }
}

const children: ChildProcess[] = [];

/** A process alone in a new network namespace, as a pooled init waits. */
function sleeper(): number {
  const child = spawn("unshare", ["--net", "--fork", "--kill-child", "sleep", "3600"], {
    stdio: "ignore",
  });
  children.push(child);
  for (let i = 0; i < 200; i++) {
    try {
      const pid = execFileSync("pgrep", ["-P", String(child.pid), "sleep"], { encoding: "utf8" });
      if (pid.trim()) return Number(pid.trim());
    } catch {
      // not forked yet
    }
    execFileSync("sleep", ["0.01"]);
  }
  throw new Error("no sleeper");
}

/** A Node process inside `pid`'s namespace that configures eth0 when told, and says how long it took. */
async function netlinkAgent(pid: number): Promise<(config: object) => Promise<number>> {
  const script = `
    const m = await import(${JSON.stringify(NETLINK)});
    m.linkIndex("lo");
    const rl = (await import("node:readline")).createInterface({ input: process.stdin });
    console.log("ready");
    for await (const line of rl) {
      const t0 = performance.now();
      m.configureInterface(JSON.parse(line));
      console.log(String(performance.now() - t0));
    }`;
  const child = spawn(
    "nsenter",
    ["-t", String(pid), "-n", process.execPath, "--input-type=module", "-e", script],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  children.push(child);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  await lines.next(); // ready
  return async (config) => {
    child.stdin!.write(JSON.stringify(config) + "\n");
    return Number((await lines.next()).value);
  };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("bench:network needs root");
  ensureIperf();
  const base = mkdtempSync(join(tmpdir(), "corral-bench-net-"));
  const root = join(base, "root");
  mkdirSync(root);
  const network = new NetworkManager(root);
  const daemonSide: number[] = [];
  const initSide: number[] = [];
  const nsenterIp: number[] = [];
  const peers: { pid: number; ip: string; hostVeth: string }[] = [];
  try {
    await network.reconcile();
    for (let i = 0; i < RUNS; i++) {
      // Corral's way: pre-wired, then the step (daemon part + init part).
      const pid = sleeper();
      const slot = `b${String(i).padStart(3, "0")}${"0".repeat(12)}`;
      await network.prewire(pid, slot);
      const agent = await netlinkAgent(pid);
      const t0 = now();
      const { eth0 } = await network.connectAtStart(
        { id: `bench${i}`, name: `bench${i}` },
        pid,
        slot,
        [{ network: "bridge", aliases: [] }],
        [],
      );
      daemonSide.push(now() - t0);
      initSide.push(await agent(eth0!));
      if (peers.length < 2)
        peers.push({ pid, ip: eth0!.address, hostVeth: `vs${slot.slice(0, 12)}` });

      // The reference: the same configuration by one nsenter + ip -batch process.
      const refPid = sleeper();
      const refSlot = `r${String(i).padStart(3, "0")}${"0".repeat(12)}`;
      await network.prewire(refPid, refSlot);
      const t1 = now();
      execFileSync("nsenter", ["-t", String(refPid), "-n", "ip", "-batch", "-"], {
        input: [
          `link set eth0 address 02:42:0a:ff:00:${(i + 2).toString(16).padStart(2, "0")}`,
          `addr add 10.255.0.${i + 2}/16 dev eth0`,
          "link set eth0 up",
          "link set lo up",
          `route add default dev eth0`,
        ].join("\n"),
      });
      nsenterIp.push(now() - t1);
    }

    // Throughput: container to container across the bridge vs the host's loopback.
    type Peer = { pid: number; ip: string; hostVeth: string };
    const [server, client] = peers as [Peer, Peer];
    const iperfServer = (pid: number | undefined, bind: string): ChildProcess => {
      const args = ["iperf3", "-s", "-B", bind, "-p", "5201"];
      const child = spawn(
        pid ? "nsenter" : args[0]!,
        pid ? ["-t", String(pid), "-n", ...args] : args.slice(1),
        { stdio: "ignore" },
      );
      children.push(child);
      return child;
    };
    const iperfClient = (pid: number | undefined, target: string): number => {
      const args = ["iperf3", "-c", target, "-p", "5201", "-t", "4", "-J"];
      const out = execFileSync(
        pid ? "nsenter" : args[0]!,
        pid ? ["-t", String(pid), "-n", ...args] : args.slice(1),
        { encoding: "utf8" },
      );
      const j = JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } };
      return j.end.sum_received.bits_per_second / 1e9;
    };
    const bridgeServer = iperfServer(server.pid, server.ip);
    const loopServer = iperfServer(undefined, "127.0.0.1");
    execFileSync("sleep", ["0.5"]);
    const bridge: number[] = [];
    const loopback: number[] = [];
    for (let i = 0; i < 3; i++) {
      bridge.push(iperfClient(client.pid, server.ip));
      loopback.push(iperfClient(undefined, "127.0.0.1"));
    }
    // Diagnostic: the same path with the host uplink's MTU on the links (Docker's choice)
    // instead of loopback's, to show what Corral's 64 KiB links are worth.
    const uplinkMtu = (network as unknown as { hostMtu(): number }).hostMtu();
    const uplinkRuns: number[] = [];
    const bridgeName = network.list().find((n) => n.name === "bridge")?.config?.bridge ?? "";
    for (const p of [server, client]) {
      execFileSync("ip", ["link", "set", p.hostVeth, "mtu", String(uplinkMtu)]);
      execFileSync("nsenter", [
        "-t",
        String(p.pid),
        "-n",
        "ip",
        "link",
        "set",
        "eth0",
        "mtu",
        String(uplinkMtu),
      ]);
    }
    execFileSync("ip", ["link", "set", bridgeName, "mtu", String(uplinkMtu)]);
    for (let i = 0; i < 3; i++) uplinkRuns.push(iperfClient(client.pid, server.ip));
    bridgeServer.kill();
    loopServer.kill();

    const fmt = (v: number): string => `${v.toFixed(2)} ms`;
    const step = daemonSide.map((d, i) => d + (initSide[i] ?? 0));
    const median = (v: number[]): number => summarize(v).p50;
    const table = [
      `# bench:network (${new Date().toISOString()})`,
      "",
      `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}; kernel ${execFileSync("uname", ["-r"], { encoding: "utf8" }).trim()}; load ${execFileSync("cat", ["/proc/loadavg"], { encoding: "utf8" }).split(" ").slice(0, 3).join(" ")}.`,
      `Method: ${RUNS} starts' network steps, interleaved with the reference; see bench/network.ts.`,
      "",
      "## Network step of a container start",
      "| what | p50 | p95 |",
      "|---|---|---|",
      `| Corral: daemon part (address, ports, firewall) | ${fmt(median(daemonSide))} | ${fmt(summarize(daemonSide).p95)} |`,
      `| Corral: init part (eth0, lo, route over rtnetlink) | ${fmt(median(initSide))} | ${fmt(summarize(initSide).p95)} |`,
      `| **Corral: network step (sum)** | **${fmt(median(step))}** | **${fmt(summarize(step).p95)}** |`,
      `| reference: one nsenter + ip -batch (the previous way) | ${fmt(median(nsenterIp))} | ${fmt(summarize(nsenterIp).p95)} |`,
      "",
      "Goal: < 5 ms.",
      "",
      "## TCP throughput (iperf3, 3 × 4 s each, alternating)",
      "| path | median | runs |",
      "|---|---|---|",
      `| container → container across the bridge | ${median(bridge).toFixed(2)} Gbit/s | ${bridge.map((b) => b.toFixed(2)).join(", ")} |`,
      `| host loopback (127.0.0.1) | ${median(loopback).toFixed(2)} Gbit/s | ${loopback.map((b) => b.toFixed(2)).join(", ")} |`,
      `| diagnostic: across the bridge with the uplink's MTU (${uplinkMtu}) on the links, as Docker | ${median(uplinkRuns).toFixed(2)} Gbit/s | ${uplinkRuns.map((b) => b.toFixed(2)).join(", ")} |`,
      `| **bridge / loopback** | **${((median(bridge) / median(loopback)) * 100).toFixed(0)} %** | goal ≥ 80 % |`,
      "",
    ].join("\n");
    writeFileSync(RESULTS, table);
    console.log(table);
  } finally {
    for (const c of children) c.kill("SIGKILL");
    network.close();
    const bridge = network.list().find((n) => n.name === "bridge")?.config?.bridge;
    if (bridge) execFileSync("ip", ["link", "del", bridge], { stdio: "ignore" });
    try {
      deleteTable(tableName(root, false));
    } catch {
      // no nft
    }
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
