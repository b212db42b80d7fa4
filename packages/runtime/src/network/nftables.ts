// Corral's firewall: one nftables table of its own (never the user's rules), rendered whole
// from the networks and published ports of running containers and applied atomically with
// `nft -f`. A restart or a crash can therefore leave no stale rule: the next change replaces
// the table, and the daemon renders it at start.
//
// Published ports use DNAT, with no proxy process, so they survive daemon restarts and cost
// nothing per connection. Reaching them on 127.0.0.1 needs two more things, as Docker does
// without its userland proxy: route_localnet on Corral's bridges (set by the manager), and
// masquerading of 127.0.0.0/8 sources leaving through them. route_localnet alone would let
// a container with CAP_NET_RAW reach the host's loopback-only services (CVE-2020-8558), so
// the input chain drops new connections from a bridge to 127.0.0.0/8.
import { execFileSync } from "node:child_process";
import { runCommand } from "./command.js";
import { rootTag } from "../paths.js";
import type { PortBinding } from "./port-spec.js";

export interface FirewallNetwork {
  bridge: string;
  subnet: string;
  gateway: string;
}

export interface FirewallPort {
  binding: PortBinding;
  containerIp: string;
}

export interface FirewallModel {
  table: string;
  networks: readonly FirewallNetwork[];
  ports: readonly FirewallPort[];
}

/** `corral` for the host's runtime; other state roots (tests, a second runtime) get their own. */
export function tableName(root: string, isDefaultRoot: boolean): string {
  return isDefaultRoot ? "corral" : `corral_${rootTag(root)}`;
}

const quote = (s: string): string => JSON.stringify(s);

/** The whole table, as `nft -f` input; replacing the old one is part of the same transaction. */
export function renderRuleset(model: FirewallModel): string {
  const t = model.table;
  const bridges = model.networks.map((n) => quote(n.bridge));
  const bridgeSet = bridges.length ? `{ ${bridges.join(", ")} }` : "";
  const lines: string[] = [
    // Declaring then deleting makes the delete succeed whether or not the table exists.
    `table ip ${t}`,
    `delete table ip ${t}`,
    `table ip ${t} {`,
  ];
  const chain = (name: string, hook: string, body: string[]): void => {
    lines.push(`  chain ${name} {`, `    ${hook}`, ...body.map((b) => `    ${b}`), "  }");
  };
  const published = model.ports.map(({ binding: b, containerIp }) => {
    const daddr = b.hostIp && b.hostIp !== "0.0.0.0" ? `ip daddr ${b.hostIp} ` : "";
    return `${daddr}${b.protocol} dport ${b.hostPort} dnat to ${containerIp}:${b.containerPort}`;
  });
  lines.push("  chain published {", ...published.map((p) => `    ${p}`), "  }");
  // Hosts with br_netfilter (Docker and Kubernetes load it) pass even bridged packets through
  // conntrack. Container-to-container traffic within a network needs no tracking (no NAT, no
  // state in any rule), and skipping it is a large part of the bridge's throughput. Traffic to
  // or from the gateway stays tracked: masqueraded replies come back to it.
  chain(
    "untracked",
    "type filter hook prerouting priority raw; policy accept;",
    model.networks.map(
      (n) =>
        `iifname ${quote(n.bridge)} ip saddr ${n.subnet} ip daddr ${n.subnet} ip daddr != ${n.gateway} notrack`,
    ),
  );
  // A packet that arrives with 127.0.0.0/8 as its destination came from a neighbour forging it
  // (Docker < 28 let those reach ports published on 127.0.0.1): only the host's own traffic,
  // through the output chain, reaches those.
  chain("prerouting", "type nat hook prerouting priority dstnat; policy accept;", [
    "fib daddr type local ip daddr != 127.0.0.0/8 jump published",
  ]);
  chain("output", "type nat hook output priority -100; policy accept;", [
    "fib daddr type local jump published",
  ]);
  chain(
    "postrouting",
    "type nat hook postrouting priority srcnat; policy accept;",
    model.networks.flatMap((n) => [
      // Egress: containers leave the host with the host's address.
      `ip saddr ${n.subnet} oifname != ${quote(n.bridge)} masquerade`,
      // A published port reached from 127.0.0.1 or from a container of the same network
      // through the host: the container must answer through the host, not around it.
      `oifname ${quote(n.bridge)} ip saddr 127.0.0.0/8 masquerade`,
      `oifname ${quote(n.bridge)} ct status dnat ip saddr ${n.subnet} masquerade`,
    ]),
  );
  chain(
    "forward",
    "type filter hook forward priority filter; policy accept;",
    bridgeSet
      ? [
          // Isolation: a network's containers reach the outside, never another Corral network.
          ...model.networks.map(
            (n) =>
              `iifname ${quote(n.bridge)} oifname ${bridgeSet} oifname != ${quote(n.bridge)} drop`,
          ),
          // Into a network: its own containers, answers, and published ports only. A neighbour
          // that routes the subnet through this host reaches nothing else (as Docker 28).
          `oifname ${bridgeSet} iifname ${bridgeSet} accept`,
          `oifname ${bridgeSet} ct state established,related accept`,
          `oifname ${bridgeSet} ct status dnat accept`,
          `oifname ${bridgeSet} drop`,
        ]
      : [],
  );
  chain(
    "input",
    "type filter hook input priority filter; policy accept;",
    bridgeSet
      ? [`iifname ${bridgeSet} ip daddr 127.0.0.0/8 ct state != { established, related } drop`]
      : [],
  );
  lines.push("}");
  return lines.join("\n") + "\n";
}

function nft(input: string): void {
  try {
    execFileSync("nft", ["-f", "-"], { input, stdio: ["pipe", "pipe", "pipe"] });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? "").trim();
    throw new Error(`nft: ${stderr.split("\n")[0] || (err as Error).message}`);
  }
}

/** Applies the ruleset (atomically, one `nft -f`), off the event loop. */
export async function applyRuleset(model: FirewallModel): Promise<void> {
  try {
    await runCommand("nft", ["-f", "-"], renderRuleset(model));
  } catch (err) {
    throw new Error(`nft: ${(err as Error).message.replace(/^nft -f -: /, "")}`);
  }
}

export function deleteTable(table: string): void {
  nft(`table ip ${table}\ndelete table ip ${table}\n`);
}
