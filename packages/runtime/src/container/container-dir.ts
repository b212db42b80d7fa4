// A container's directory on the host: its overlay dirs, the init layer, its console log and the
// /etc files (hosts, hostname, resolv.conf) bind-mounted into it, written as Docker writes them.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ContainerRecord } from "./record.js";

/** Lays out a new container's directory `dir`; its /etc files as they are before any network. */
export function prepareContainerDir(dir: string, r: ContainerRecord): void {
  // The merged root takes the upper dir's mode: 0755 as Docker's, or a non-root user
  // cannot even traverse "/". Explicit, whatever the daemon's umask.
  for (const sub of ["upper", "work", "rootfs"]) {
    mkdirSync(join(dir, sub), { recursive: true });
    chmodSync(join(dir, sub), 0o755);
  }
  // The init layer: mount points Docker's init layer provides, so they exist even in a
  // read-only rootfs and never land in the container's own layer.
  const init = join(dir, "init-layer");
  for (const sub of ["dev/pts", "dev/shm", "proc", "sys", "etc"])
    mkdirSync(join(init, sub), { recursive: true });
  for (const f of ["etc/hosts", "etc/hostname", "etc/resolv.conf"])
    writeFileSync(join(init, f), "");
  writeFileSync(join(dir, "hostname"), `${r.process.hostname}\n`);
  // --network host sees the host's names and resolvers as they are, as Docker's does.
  const hostNetwork = r.request.network === "host";
  writeFileSync(
    join(dir, "hosts"),
    hostNetwork ? readHostFile("/etc/hosts") : hostsFile(undefined, r.process.hostname),
  );
  writeFileSync(
    join(dir, "resolv.conf"),
    hostNetwork ? readHostFile("/etc/resolv.conf") : hostResolvConf(),
  );
  writeFileSync(join(dir, "console.log"), "", { mode: 0o640 });
}

/**
 * /etc/hosts and resolv.conf once the container has its address: `resolvConf` is its network's
 * (undefined: the host's, without loopback resolvers).
 */
export function writeNetworkFiles(
  dir: string,
  hostname: string,
  ip: string | undefined,
  resolvConf: string | undefined,
): void {
  // In place: the files are bind-mounted, and a rename would not be seen through the mount.
  writeFileSync(join(dir, "hosts"), hostsFile(ip, hostname));
  writeFileSync(join(dir, "resolv.conf"), resolvConf ?? hostResolvConf());
}

const LOCALHOST_LINES =
  "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

/** A host file as it is, or empty if missing (--network host). */
function readHostFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** /etc/hosts as Docker writes it: localhost lines, then the container's own address and name. */
function hostsFile(ip: string | undefined, hostname: string): string {
  return LOCALHOST_LINES + (ip ? `${ip}\t${hostname}\n` : "");
}

/** The host's resolv.conf without loopback resolvers, which mean nothing in a container (as Docker). */
function hostResolvConf(): string {
  let text = "";
  try {
    text = readFileSync("/etc/resolv.conf", "utf8");
  } catch {
    return "";
  }
  return text
    .split("\n")
    .filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l))
    .join("\n");
}
