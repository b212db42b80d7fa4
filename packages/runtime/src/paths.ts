// Where the runtime keeps its state. Overridable so that tests and several runtimes can share a host.
import { createHash } from "node:crypto";
import { join } from "node:path";

export interface RuntimePaths {
  /** Persistent state: images, containers, volumes. */
  root: string;
  /** Runtime files that die with the boot: the API socket, pid file, pre-started init slots. */
  run: string;
  socket: string;
}

/** The host's runtime's state root (its bridge and nftables table have the short names). */
export const DEFAULT_ROOT = "/var/lib/corral";
export const DEFAULT_RUN = "/run/corral";

/**
 * A short tag of a state root other than the host's: what its run dir, cgroup parent and
 * nftables table are named after, so that several runtimes on one machine never share them.
 */
export function rootTag(root: string): string {
  return createHash("sha256").update(root).digest("hex").slice(0, 10);
}

/**
 * CORRAL_ROOT alone names a runtime: its run dir (socket, pid file) follows from it unless
 * CORRAL_RUN says otherwise, so `CORRAL_ROOT=/x corral-rt ps` talks to /x's daemon, never to
 * the host's.
 */
export function runtimePaths(
  env: Readonly<Record<string, string | undefined>> = process.env,
): RuntimePaths {
  const root = env.CORRAL_ROOT || DEFAULT_ROOT;
  const run =
    env.CORRAL_RUN || (root === DEFAULT_ROOT ? DEFAULT_RUN : `/run/corral-${rootTag(root)}`);
  return { root, run, socket: join(run, "rtd.sock") };
}

/** The cgroup (under each hierarchy's root) that holds this runtime's containers. */
export function cgroupParent(root: string): string {
  return root === DEFAULT_ROOT ? "corral" : `corral-${rootTag(root)}`;
}
