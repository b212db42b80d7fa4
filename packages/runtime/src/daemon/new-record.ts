// A new container's record from its create request and its image, by Docker's rules: the
// command (entrypoint and cmd), environment, working dir, user, hostname and stop signal, the
// network it joins and the ports it exposes, its mounts (creating the volumes they name) and a
// generated name if none is given. Validates what it can before it creates any volume.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import type { CreateRequest } from "../container/config.js";
import { DEFAULT_PATH } from "../container/defaults.js";
import { initialState, type ContainerMount, type ContainerRecord } from "../container/record.js";
import { DEFAULT_NETWORK, type NetworkManager } from "../network/manager.js";
import { parseExposed } from "../network/port-spec.js";
import { UserError } from "../util/errors.js";
import type { VolumeStore } from "./volumes.js";

/** An image as a container is made from it. */
export interface ImageForRun {
  id: string;
  config: {
    Env?: string[] | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    WorkingDir?: string;
    User?: string;
    StopSignal?: string;
    Volumes?: Record<string, unknown> | null;
    ExposedPorts?: Record<string, unknown> | null;
  };
  layerDirs: string[];
}

/** `nameTaken`: whether another container has that name (for a generated one). */
export function newContainerRecord(
  req: CreateRequest,
  image: ImageForRun,
  deps: {
    network: NetworkManager;
    volumes: VolumeStore;
    nameTaken: (name: string) => boolean;
  },
): ContainerRecord {
  const id = randomBytes(32).toString("hex");
  const name = req.name ?? generateName(id, deps.nameTaken);
  const cfg = image.config;
  const entrypoint = req.entrypoint ?? cfg.Entrypoint ?? [];
  const cmd = req.cmd ?? (req.entrypoint !== undefined ? [] : (cfg.Cmd ?? []));
  const args = [...entrypoint, ...cmd];
  if (args.length === 0)
    throw new UserError("No command specified: give a command after the image name");
  let mode = req.network === "default" ? DEFAULT_NETWORK : req.network;
  let network = mode;
  if (mode !== "host" && mode !== "none") {
    // The network must exist now (Docker's rule); it is named in the record by its name.
    const info = deps.network.find(mode);
    network = info.name;
    // The id (or an id prefix) of the host or none network means that network.
    if (info.driver !== "bridge") mode = info.name;
  }
  const isBridge = mode !== "host" && mode !== "none";
  if (req.networkAliases.length > 0 && (network === DEFAULT_NETWORK || !isBridge))
    throw new UserError("network-scoped aliases are only supported for user-defined networks");
  if (!isBridge && (req.publish.length > 0 || req.publishAll))
    throw new UserError(`ports cannot be published with --network ${mode}: drop -p/-P`);
  // An image may expose sctp ports: Corral publishes tcp and udp only, so -P skips those.
  const imageExposed = Object.keys(cfg.ExposedPorts ?? {}).filter((e) =>
    ["tcp", "udp"].includes(e.split("/")[1] ?? "tcp"),
  );
  const exposedPorts = [
    ...new Set(
      [...imageExposed, ...req.expose].flatMap((e) =>
        parseExposed(e).map((x) => `${x.port}/${x.protocol}`),
      ),
    ),
  ];
  const hostname = req.hostname ?? (mode === "host" ? osHostname() : id.slice(0, 12));
  const env = mergeEnv(mergeEnv([`PATH=${DEFAULT_PATH}`], cfg.Env ?? []), [
    `HOSTNAME=${hostname}`,
    ...req.env,
  ]);
  const mounts = resolveMounts(req, cfg.Volumes ?? {}, deps.volumes);
  return {
    id,
    name,
    created: new Date().toISOString(),
    imageId: image.id,
    imageRef: req.image,
    layerDirs: image.layerDirs,
    // host and none by their names: starts and inspect look for those.
    request: isBridge ? req : { ...req, network: mode },
    process: {
      args,
      env,
      cwd: req.workingDir ?? (cfg.WorkingDir || "/"),
      user: req.user ?? cfg.User ?? "",
      hostname,
      stopSignal: req.stopSignal ?? cfg.StopSignal ?? "SIGTERM",
    },
    mounts,
    endpoints: isBridge ? [{ network, aliases: req.networkAliases }] : [],
    exposedPorts,
    state: initialState(),
  };
}

function mergeEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const byKey = new Map<string, string>();
  for (const e of [...base, ...overrides]) byKey.set(e.slice(0, e.indexOf("=")), e);
  return [...byKey.values()];
}

function generateName(id: string, taken: (name: string) => boolean): string {
  const adjectives = [
    "brave",
    "calm",
    "eager",
    "fond",
    "keen",
    "quiet",
    "swift",
    "wise",
    "bold",
    "merry",
  ];
  const nouns = [
    "mustang",
    "bison",
    "heron",
    "otter",
    "lynx",
    "falcon",
    "badger",
    "colt",
    "wren",
    "elk",
  ];
  for (let i = 0; ; i++) {
    const a = adjectives[
      (parseInt(id.slice(i * 2, i * 2 + 2), 16) || i) % adjectives.length
    ] as string;
    const n = nouns[(parseInt(id.slice(i * 2 + 2, i * 2 + 4), 16) || i) % nouns.length] as string;
    const name = i === 0 ? `${a}_${n}` : `${a}_${n}${i}`;
    if (!taken(name)) return name;
  }
}

function resolveMounts(
  req: CreateRequest,
  imageVolumes: Record<string, unknown>,
  volumes: VolumeStore,
): ContainerMount[] {
  const mounts: ContainerMount[] = [];
  const targets = new Set<string>();
  for (const m of req.mounts) {
    if (targets.has(m.target)) throw new UserError(`Duplicate mount point: ${m.target}`);
    targets.add(m.target);
    if (m.type === "bind") {
      if (!existsSync(m.source)) {
        throw new UserError(
          `invalid mount config: bind source path does not exist: ${m.source} (create it first)`,
        );
      }
      mounts.push({ type: "bind", source: m.source, target: m.target, readOnly: m.readOnly });
    } else if (m.type === "volume") {
      const anonymous = m.source === "";
      const volume = anonymous ? volumes.create(undefined, true) : volumes.getOrCreate(m.source);
      mounts.push({
        type: "volume",
        source: volume.path,
        name: volume.name,
        anonymous,
        target: m.target,
        readOnly: m.readOnly,
        copyUp: !m.noCopy,
      });
    } else {
      mounts.push({
        type: "tmpfs",
        source: "",
        target: m.target,
        readOnly: false,
        options: m.options,
      });
    }
  }
  for (const target of Object.keys(imageVolumes)) {
    if (targets.has(target)) continue;
    const volume = volumes.create(undefined, true);
    mounts.push({
      type: "volume",
      source: volume.path,
      name: volume.name,
      anonymous: true,
      target,
      readOnly: false,
      copyUp: true,
    });
  }
  return mounts;
}
