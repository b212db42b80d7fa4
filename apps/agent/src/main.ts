#!/usr/bin/env node
// corral-agent --server URL --token JOIN_TOKEN [--name NAME] [--data DIR] [--runtime host|private]
import os from "node:os";
import { join, resolve } from "node:path";
import { Command, Option } from "commander";
import { RuntimeClient, runtimePaths } from "@corral/runtime";
import { Agent, FatalAgentError } from "./agent.js";
import { joinServer, readCredential } from "./credentials.js";
import { AGENT_VERSION, hostFacts } from "./facts.js";
import { HostStatsReader } from "./host-stats.js";

const program = new Command("corral-agent")
  .description("Joins this host to a Corral web app and carries out its commands")
  .version(AGENT_VERSION, "-v, --version")
  .requiredOption("--server <url>", "the web app's URL, e.g. http://10.0.0.5:3000")
  .option("--token <token>", "one-time join token (only needed for the first start)")
  .option("--name <name>", "this host's name in the fleet", os.hostname())
  .option("--data <dir>", "where the agent keeps its credential", "/var/lib/corral/agent")
  .addOption(
    new Option(
      "--runtime <which>",
      "host: the machine's corral-rtd (CORRAL_ROOT, else /var/lib/corral); private: its own under DATA/runtime, for several agents on one machine",
    )
      .choices(["host", "private"])
      .default("host"),
  )
  .parse();

const o = program.opts<{
  server: string;
  token?: string;
  name: string;
  data: string;
  runtime: "host" | "private";
}>();

async function main(): Promise<void> {
  // A private runtime is a corral-rtd of its own (state root, socket, cgroup parent, bridges,
  // subnet, nftables table all follow from the root: packages/runtime/src/paths.ts); the agent
  // stays its client and starts it when it is not running, as it does the host's.
  const paths =
    o.runtime === "private"
      ? runtimePaths({ CORRAL_ROOT: join(resolve(o.data), "runtime") })
      : runtimePaths();
  const facts = () => hostFacts(paths, o.name);
  let credential = readCredential(o.data);
  if (credential && credential.server !== o.server) credential = undefined;
  if (!credential) {
    if (!o.token) {
      throw new Error(
        `no credential in ${o.data} for ${o.server}: pass --token (POST /api/v1/hosts/join-tokens makes one)`,
      );
    }
    credential = await joinServer(o.server, o.token, o.name, facts(), o.data);
    console.log(`corral-agent: joined ${o.server} as ${o.name} (host ${credential.hostId})`);
  }
  const agent = new Agent({
    client: new RuntimeClient(paths),
    credential,
    facts,
    hostStats: new HostStatsReader({ stateRoot: paths.root }),
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => agent.stop());
  await agent.start();
  await agent.done;
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`corral-agent: ${err.message}`);
    // EX_CONFIG: retrying cannot help (npm start's supervisor stops restarting on it)
    process.exit(err instanceof FatalAgentError ? 78 : 1);
  },
);
