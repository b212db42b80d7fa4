#!/usr/bin/env node
// corral-rtd: the per-host runtime daemon. It owns every container's start and records every
// exit; containers do not depend on it staying up (see init-pool.ts). Started on demand by
// `corral-rt`, or in the foreground by `npm start`.
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { runtimePaths } from "../paths.js";
import { setChildSubreaper, tryLockExclusive } from "../syscall/index.js";
import { ContainerService } from "./containers.js";
import { InitPool } from "./init-pool.js";
import { createApi, listen } from "./server.js";
import { VolumeStore } from "./volumes.js";
import { ImageApi } from "./images.js";
import { RegistryAccess } from "./registries.js";
import { loadRuntimeConfig } from "../config/runtime-config.js";
import { NetworkManager } from "../network/manager.js";
import { daemonLog, keepServingOnUnexpectedErrors } from "./faults.js";

const log = daemonLog;

/**
 * One daemon per state root: the pid file, held with an exclusive flock for the daemon's life
 * (the kernel releases it when the daemon dies, however). Checking the pid inside instead was
 * racy: two daemons started at once could both find the owner dead and both go on.
 */
function takePidFile(path: string): void {
  const fd = openSync(path, "a+", 0o600);
  if (!tryLockExclusive(fd, path)) {
    const owner = readFileSync(path, "utf8").trim();
    closeSync(fd);
    throw new Error(`another corral-rtd (pid ${owner || "?"}) is running for this state root`);
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`);
  // The fd stays open (and locked) until the daemon exits.
}

/** Slots whose init was never claimed by a container belong to a previous daemon: drop them. */
function cleanStaleSlots(runDir: string): void {
  const slots = join(runDir, "slots");
  if (!existsSync(slots)) return;
  for (const slot of readdirSync(slots)) {
    if (!existsSync(join(slots, slot, "target")))
      rmSync(join(slots, slot), { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("corral-rtd must run as root");
  keepServingOnUnexpectedErrors();
  // runtime.json (CORRAL_CONFIG): a bad file is one line in the log and no daemon.
  const config = loadRuntimeConfig();
  const paths = runtimePaths();
  mkdirSync(paths.root, { recursive: true, mode: 0o700 });
  mkdirSync(paths.run, { recursive: true, mode: 0o700 });
  // Locked in the root too: two run dirs (CORRAL_RUN) must not give one root two daemons.
  takePidFile(join(paths.root, "rtd.pid"));
  const pidFile = join(paths.run, "rtd.pid");
  takePidFile(pidFile);
  process.title = "corral-rtd";
  setChildSubreaper();
  cleanStaleSlots(paths.run);
  rmSync(paths.socket, { force: true });

  const network = new NetworkManager(paths.root, {
    defaultSubnet: config.bip?.subnet,
    defaultGateway: config.bip?.address,
  });
  const pool = new InitPool(paths.run, Number(process.env.CORRAL_POOL_SIZE ?? 2), (w) =>
    network.prewire(w.hostPid, w.slotId),
  );
  const volumes = new VolumeStore(paths.root);
  const registries = new RegistryAccess(paths.root, config, log);
  const images = new ImageApi(paths.root, registries, log);
  const containers = new ContainerService(paths.root, pool, images, volumes, network);
  await containers.recover();
  await network.reconcile();
  pool.fill();
  const server = await listen(createApi(containers, volumes, images), paths.socket, containers);
  log(`listening on ${paths.socket} (state in ${paths.root})`);

  const shutdown = (signal: string): void => {
    log(`${signal}: stopping; containers keep running`);
    server.close();
    pool.close();
    containers.close();
    network.close();
    rmSync(paths.socket, { force: true });
    rmSync(pidFile, { force: true });
    process.exit(0);
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGHUP", () => {
    try {
      registries.reconfigure(loadRuntimeConfig());
      log("SIGHUP: registry configuration reloaded");
    } catch (err) {
      log(`SIGHUP: ${(err as Error).message}; keeping the configuration in use`);
    }
  });
}

main().catch((err: unknown) => {
  log((err as Error).message);
  process.exit(1);
});
