// `corral-rt network …`: Docker's network commands over the daemon's network routes.
import type { Command } from "commander";
import { api, collect, enc } from "./common.js";
import { printTable } from "./format.js";
import { forEachName } from "./each.js";
import { labelFields, NETWORK_FORMAT, printFormatted } from "./output-format.js";
import { UsageError } from "./run-options.js";

interface NetworkView {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Created: string;
  Internal?: boolean;
  EnableIPv6?: boolean;
  Labels?: Record<string, string>;
  IPAM: { Config: { Subnet: string; Gateway: string }[] };
}

function labels(specs: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of specs) {
    const [k, v = ""] = l.split(/=(.*)/s, 2);
    if (!k) throw new UsageError(`invalid label "${l}": use key=value`);
    out[k] = v;
  }
  return out;
}

export function registerNetworkCommands(program: Command): void {
  const network = program.command("network").description("manage networks");
  network
    .command("create")
    .description("create a bridge network whose containers find each other by name")
    .argument("<name>")
    .option("-d, --driver <driver>", "bridge (the only driver)", "bridge")
    .option("--subnet <cidr>", "subnet, e.g. 172.30.0.0/16 (default: a free one)")
    .option("--gateway <ip>", "the bridge's address (default: the subnet's first)")
    .option("--label <key=value>", "set a label", collect)
    .action(
      async (
        name: string,
        o: { driver: string; subnet?: string; gateway?: string; label?: string[] },
      ) => {
        if (o.driver !== "bridge")
          throw new UsageError(`unsupported driver "${o.driver}": only bridge is available`);
        const created = await api<{ Id: string }>("POST", "/v1/networks", {
          name,
          subnet: o.subnet,
          gateway: o.gateway,
          labels: labels(o.label),
        });
        console.log(created.Id);
      },
    );
  network
    .command("ls")
    .description("list networks")
    .alias("list")
    .option("-q, --quiet", "only IDs")
    .option("--format <format>", "json, a Go template, or table TEMPLATE (Docker's fields)")
    .option("--no-trunc", "do not truncate IDs")
    .action(async (o: { quiet?: boolean; format?: string; trunc: boolean }) => {
      const rows = await api<NetworkView[]>("GET", "/v1/networks");
      const id = (n: NetworkView): string => (o.trunc ? n.Id.slice(0, 12) : n.Id);
      if (o.quiet) rows.forEach((n) => console.log(id(n)));
      else if (o.format !== undefined)
        printFormatted(
          o.format,
          rows.map((n) => ({
            ID: id(n),
            Name: n.Name,
            Driver: n.Driver,
            Scope: n.Scope,
            IPv6: n.EnableIPv6 ?? false,
            Internal: n.Internal ?? false,
            CreatedAt: n.Created,
            ...labelFields(n.Labels),
          })),
          NETWORK_FORMAT,
        );
      else
        printTable(
          ["NETWORK ID", "NAME", "DRIVER", "SCOPE"],
          rows.map((n) => [id(n), n.Name, n.Driver, n.Scope]),
        );
    });
  network
    .command("inspect")
    .description("show networks' details and containers as JSON")
    .argument("<networks...>")
    .action(async (refs: string[]) => {
      const out = [];
      for (const ref of refs) out.push(await api("GET", `/v1/networks/${enc(ref)}`));
      console.log(JSON.stringify(out, null, 4));
    });
  network
    .command("rm")
    .description("remove networks no container uses")
    .alias("remove")
    .argument("<networks...>")
    .action(async (refs: string[]) => {
      await forEachName(refs, async (ref) => {
        await api("DELETE", `/v1/networks/${enc(ref)}`);
        console.log(ref);
      });
    });
  network
    .command("connect")
    .description("connect a container to a network (at once if it runs)")
    .argument("<network>")
    .argument("<container>")
    .option("--alias <name>", "another name for the container on this network", collect)
    .action(async (net: string, container: string, o: { alias?: string[] }) => {
      await api("POST", `/v1/networks/${enc(net)}/connect`, {
        container,
        aliases: o.alias ?? [],
      });
    });
  network
    .command("disconnect")
    .description("disconnect a container from a network (at once if it runs)")
    .argument("<network>")
    .argument("<container>")
    .action(async (net: string, container: string) => {
      await api("POST", `/v1/networks/${enc(net)}/disconnect`, { container });
    });
}
