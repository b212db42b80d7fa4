// Turns Docker's `run`/`create` flags into a create request. Pure, so every flag's meaning is
// unit-tested without a daemon.
import { parseExposed, parsePublish } from "../network/port-spec.js";
import { readFileSync } from "node:fs";
import type { CreateRequestInput, MountRequest, RestartPolicy } from "../container/config.js";
import { tmpfsMount } from "../container/tmpfs.js";
import { parseBytes } from "../container/units.js";
import { parseSecurityOpts } from "../container/security-opts.js";
import { parseDeviceFlag } from "../container/devices.js";
import { normalizeCapability } from "../container/capabilities.js";

export interface RunFlags {
  detach?: boolean;
  rm?: boolean;
  name?: string;
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: string;
  pidsLimit?: string;
  readOnly?: boolean;
  init?: boolean;
  volume?: string[];
  tmpfs?: string[];
  interactive?: boolean;
  tty?: boolean;
  entrypoint?: string;
  restart?: string;
  logOpt?: string[];
  label?: string[];
  stopSignal?: string;
  stopTimeout?: string;
  securityOpt?: string[];
  device?: string[];
  capAdd?: string[];
  capDrop?: string[];
  network?: string;
  networkAlias?: string[];
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
  /** Handled by the CLI before the create request: missing, never, always. */
  pull?: string;
}

export class UsageError extends Error {}

/** Runs a parser whose errors are the user's to fix (exit code 125). */
function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function envEntry(entry: string): string | undefined {
  if (entry.includes("=")) return entry;
  // `-e NAME` passes the caller's value through, as Docker does; unset names are dropped.
  const value = process.env[entry];
  return value === undefined ? undefined : `${entry}=${value}`;
}

export function parseEnvFile(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map(envEntry)
    .filter((e): e is string => e !== undefined);
}

export function parseVolume(spec: string): MountRequest {
  const parts = spec.split(":");
  if (parts.length > 3 || parts.some((p) => p === "")) {
    throw new UsageError(
      `invalid volume specification "${spec}": use /host/path:/container/path[:ro], name:/path or /path`,
    );
  }
  // Docker's modes: ro or rw, and nocopy (named volumes), comma-separated.
  const modes = parts.length === 3 ? (parts[2] as string).split(",") : [];
  const bad = modes.find((m) => m !== "ro" && m !== "rw" && m !== "nocopy");
  if (bad !== undefined) {
    throw new UsageError(`invalid mode "${bad}" in volume "${spec}": use ro, rw or nocopy`);
  }
  const readOnly = modes.includes("ro");
  const noCopy = modes.includes("nocopy");
  if (parts.length === 1) {
    const target = parts[0] as string;
    if (!target.startsWith("/"))
      throw new UsageError(`invalid volume "${spec}": a container path must be absolute`);
    return { type: "volume", source: "", target, readOnly: false, noCopy: false };
  }
  const [source, target] = parts as [string, string];
  if (!target.startsWith("/"))
    throw new UsageError(`invalid volume "${spec}": the container path must be absolute`);
  if (source.startsWith("/")) {
    if (noCopy) throw new UsageError(`invalid volume "${spec}": nocopy is for volumes, not binds`);
    return { type: "bind", source, target, readOnly };
  }
  return { type: "volume", source, target, readOnly, noCopy };
}

export function parseTmpfs(spec: string): MountRequest {
  const [target = "", options = ""] = spec.split(/:(.*)/s, 2);
  if (!target.startsWith("/")) throw new UsageError(`invalid tmpfs "${spec}": use /path[:options]`);
  const opts = options
    .split(",")
    .filter(Boolean)
    .map((o) => {
      const m = /^size=(.+)$/.exec(o);
      return m ? `size=${parseBytes(m[1] as string, "tmpfs size")}` : o;
    });
  try {
    tmpfsMount(opts.join(","));
  } catch (err) {
    throw new UsageError(`${(err as Error).message} in "${spec}"`);
  }
  return { type: "tmpfs", target, options: opts.join(",") };
}

export function parseRestart(spec: string): RestartPolicy {
  const [name, count] = spec.split(":");
  if (name === "no" || name === "always" || name === "unless-stopped") {
    if (count !== undefined)
      throw new UsageError(`invalid restart policy "${spec}": only on-failure takes a count`);
    return { name, maximumRetryCount: 0 };
  }
  if (name === "on-failure") {
    if (count !== undefined && !/^[0-9]+$/.test(count))
      throw new UsageError(`invalid restart count in "${spec}"`);
    return { name, maximumRetryCount: count === undefined ? 0 : Number(count) };
  }
  throw new UsageError(
    `invalid restart policy "${spec}": use no, always, unless-stopped or on-failure[:N]`,
  );
}

function number(value: string | undefined, what: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(
      `invalid ${what} "${value}": expected ${integer ? "a whole number" : "a number"}`,
    );
  }
  return n;
}

function bytes(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (value === "-1") return -1;
  try {
    return parseBytes(value, what);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function createRequestFromFlags(
  image: string,
  command: string[],
  f: RunFlags,
): CreateRequestInput {
  const env: string[] = [];
  for (const file of f.envFile ?? []) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      throw new UsageError(`open ${file}: no such file or directory`);
    }
    env.push(...parseEnvFile(text));
  }
  for (const e of f.env ?? []) {
    const entry = envEntry(e);
    if (entry) env.push(entry);
  }
  const security = usage(() =>
    parseSecurityOpts(f.securityOpt ?? [], (file) => {
      try {
        return readFileSync(file, "utf8");
      } catch (err) {
        throw new Error(`opening seccomp profile (${file}) failed: ${(err as Error).message}`);
      }
    }),
  );
  let logMaxSizeBytes: number | undefined;
  let logMaxFiles: number | undefined;
  for (const opt of f.logOpt ?? []) {
    const [key, value] = opt.split(/=(.*)/s, 2);
    if (key === "max-size" && value) logMaxSizeBytes = bytes(value, "log max-size");
    else if (key === "max-file" && value) {
      logMaxFiles = Number(value);
      if (!Number.isInteger(logMaxFiles) || logMaxFiles < 1)
        throw new UsageError(
          `invalid log opt "${opt}": max-file is a whole number of files, 1 or more`,
        );
    } else throw new UsageError(`unknown log opt "${opt}": supported: max-size=SIZE, max-file=N`);
  }
  const labels: Record<string, string> = {};
  for (const l of f.label ?? []) {
    const [k, v = ""] = l.split(/=(.*)/s, 2);
    if (!k) throw new UsageError(`invalid label "${l}": use key=value`);
    labels[k] = v;
  }
  if (f.memory !== undefined && (bytes(f.memory, "memory") ?? 0) < 6 * 1024 * 1024) {
    throw new UsageError("Minimum memory limit allowed is 6MB");
  }
  const cpus = number(f.cpus, "--cpus", false);
  if (cpus !== undefined && cpus <= 0)
    throw new UsageError(`invalid --cpus "${f.cpus}": must be above 0`);
  const req: CreateRequestInput = {
    image,
    env,
    mounts: [...(f.volume ?? []).map(parseVolume), ...(f.tmpfs ?? []).map(parseTmpfs)],
    readOnly: f.readOnly ?? false,
    ...security,
    devices: (f.device ?? []).map((d) => usage(() => parseDeviceFlag(d))),
    capAdd: (f.capAdd ?? []).map((c) => usage(() => normalizeCapability(c))),
    capDrop: (f.capDrop ?? []).map((c) => usage(() => normalizeCapability(c))),
    network: f.network ?? "bridge",
    networkAliases: f.networkAlias ?? [],
    publish: (f.publish ?? []).flatMap((p) => usage(() => parsePublish(p))),
    publishAll: f.publishAll ?? false,
    expose: (f.expose ?? []).map((e) => {
      usage(() => parseExposed(e));
      return e;
    }),
    tty: f.tty ?? false,
    openStdin: f.interactive ?? false,
    init: f.init ?? false,
    autoRemove: f.rm ?? false,
    labels,
    restartPolicy: parseRestart(f.restart ?? "no"),
  };
  if (command.length > 0) req.cmd = command;
  if (f.entrypoint !== undefined) req.entrypoint = f.entrypoint === "" ? [] : [f.entrypoint];
  if (f.name !== undefined) req.name = f.name;
  if (f.workdir !== undefined) req.workingDir = f.workdir;
  if (f.user !== undefined) req.user = f.user;
  if (f.hostname !== undefined) req.hostname = f.hostname;
  if (f.memory !== undefined) req.memoryBytes = bytes(f.memory, "memory");
  if (f.memorySwap !== undefined) req.memorySwapBytes = bytes(f.memorySwap, "memory-swap");
  if (cpus !== undefined) req.cpus = cpus;
  if (f.cpuShares !== undefined) req.cpuShares = number(f.cpuShares, "--cpu-shares", true);
  if (f.pidsLimit !== undefined) req.pidsLimit = number(f.pidsLimit, "--pids-limit", true);
  if (logMaxSizeBytes !== undefined) req.logMaxSizeBytes = logMaxSizeBytes;
  if (logMaxFiles !== undefined) req.logMaxFiles = logMaxFiles;
  if (f.stopSignal !== undefined) req.stopSignal = f.stopSignal;
  if (f.stopTimeout !== undefined)
    req.stopTimeoutSeconds = number(f.stopTimeout, "--stop-timeout", true);
  if (f.restart && f.rm && req.restartPolicy?.name !== "no") {
    throw new UsageError("Conflicting options: --restart and --rm");
  }
  return req;
}
