// Where the runtime keeps its state. Overridable so that tests and several runtimes can share a host.
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

export function runtimePaths(env: NodeJS.ProcessEnv = process.env): RuntimePaths {
  const root = env.CORRAL_ROOT || DEFAULT_ROOT;
  const run = env.CORRAL_RUN || "/run/corral";
  return { root, run, socket: join(run, "rtd.sock") };
}
