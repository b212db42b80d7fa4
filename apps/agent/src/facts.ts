// Host facts: what a host is (CPU, memory, disk, kernel, versions), sent in every snapshot.
import { readFileSync, statfsSync } from "node:fs";
import os from "node:os";
import { detectCgroups, type RuntimePaths } from "@corral/runtime";
import type { HostFacts } from "@corral/protocol";

function packageVersion(packageJson: URL): string {
  try {
    return (JSON.parse(readFileSync(packageJson, "utf8")) as { version?: string }).version ?? "";
  } catch {
    return "";
  }
}

export const AGENT_VERSION = packageVersion(new URL("../package.json", import.meta.url));
const RUNTIME_VERSION = packageVersion(
  new URL("../package.json", import.meta.resolve("@corral/runtime")),
);

export function hostFacts(paths: RuntimePaths, name: string = os.hostname()): HostFacts {
  let diskBytes = 0;
  let diskFreeBytes = 0;
  for (const dir of [paths.root, "/"]) {
    try {
      const s = statfsSync(dir);
      diskBytes = s.blocks * s.bsize;
      diskFreeBytes = s.bavail * s.bsize;
      break;
    } catch {
      // the state root does not exist before the daemon's first start: the root fs then
    }
  }
  return {
    hostname: name,
    kernel: os.release(),
    os: `${os.type()} ${os.version()}`.slice(0, 256),
    arch: os.arch(),
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    diskBytes,
    diskFreeBytes,
    cgroups: detectCgroups().kind,
    runtimeVersion: RUNTIME_VERSION,
    agentVersion: AGENT_VERSION,
  };
}
