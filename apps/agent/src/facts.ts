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

/**
 * The host's own addresses, where its published ports answer: not loopback, not link-local
 * IPv6, not Corral's bridges and veths (their subnets are private to the host).
 */
export function hostAddresses(
  ifaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces(),
): string[] {
  const out: string[] = [];
  for (const [name, list] of Object.entries(ifaces)) {
    // the runtime's bridges and veths (packages/runtime/src/network: corral0, corral-<id>,
    // cr<hash> for other state roots, vs<id> for a container's host side)
    if (/^(corral|cr[0-9a-f]{5}|vs[0-9a-f]{12}|veth|lo$)/.test(name)) continue;
    for (const a of list ?? []) {
      if (a.internal || (a.family === "IPv6" && a.address.startsWith("fe80:"))) continue;
      out.push(a.address);
    }
  }
  return out.slice(0, 256);
}

/** The distribution's name (`PRETTY_NAME` of os-release), else the kernel's own words. */
export function osName(osRelease: string | undefined = readOr("/etc/os-release")): string {
  const m = osRelease && /^PRETTY_NAME=("?)(.*)\1$/m.exec(osRelease);
  return (m ? m[2]! : `${os.type()} ${os.version()}`).slice(0, 256);
}

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

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
    os: osName(),
    arch: os.arch(),
    cpus: os.cpus().length,
    cpuModel: (os.cpus()[0]?.model ?? "").trim().slice(0, 256),
    addresses: hostAddresses(),
    memoryBytes: os.totalmem(),
    diskBytes,
    diskFreeBytes,
    cgroups: detectCgroups().kind,
    runtimeVersion: RUNTIME_VERSION,
    agentVersion: AGENT_VERSION,
  };
}
