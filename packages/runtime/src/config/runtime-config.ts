// The runtime daemon's configuration file: `/etc/corral/runtime.json` (another path with
// CORRAL_CONFIG). Keys are Docker's daemon.json names, so a Docker user's file reads the same:
//
//   { "registry-mirrors": ["https://mirror.example.com"],
//     "insecure-registries": ["registry.lan:5000", "10.0.0.0/8"],
//     "bip": "172.26.0.1/16" }
//
// The daemon reads it at start and again on SIGHUP. A missing file at the default path means
// the defaults; an unknown key or a bad value is one line naming the key and the file, and the
// daemon refuses to start (or, on SIGHUP, keeps the configuration it has).
//
// There is deliberately no "default registry" key: as in Docker, short names (`busybox`)
// always mean Docker Hub, so a name means the same image on every host; `registry-mirrors`
// is how Hub pulls go through another registry.
import { readFileSync } from "node:fs";
import { BlockList, isIP } from "node:net";
import { z } from "zod";
import { formatIp, parseIp } from "../network/subnet.js";

export const DEFAULT_CONFIG_PATH = "/etc/corral/runtime.json";

/** The default bridge's address and subnet (Docker's `bip`), e.g. 172.26.0.1/16. */
export interface BridgeIp {
  /** as written: "172.26.0.1/16" */
  cidr: string;
  /** the bridge's own address: "172.26.0.1" */
  address: string;
  /** the network it is in: "172.26.0.0/16" */
  subnet: string;
  prefix: number;
}

export interface RuntimeConfig {
  /** the file this came from ("" for the built-in defaults) */
  path: string;
  /** mirror base URLs for Docker Hub images, tried in order, without a trailing "/" */
  registryMirrors: string[];
  /** `host`, `host:port` or CIDR entries: plain HTTP is allowed only for these */
  insecureRegistries: string[];
  bip: BridgeIp | undefined;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export const DEFAULT_CONFIG: RuntimeConfig = Object.freeze({
  path: "",
  registryMirrors: [],
  insecureRegistries: [],
  bip: undefined,
});

const HOST_PORT =
  /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]{1,5})?$/;

function mirrorUrl(value: string, ctx: z.RefinementCtx): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({
      code: "custom",
      message: `"${value}" is not a URL (e.g. https://mirror.example.com)`,
    });
    return z.NEVER;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    ctx.addIssue({ code: "custom", message: `"${value}" must be an http:// or https:// URL` });
  } else if (url.username !== "" || url.password !== "") {
    ctx.addIssue({
      code: "custom",
      message: `"${value}" must not carry credentials: use corral-rt login`,
    });
  } else if (url.search !== "" || url.hash !== "") {
    ctx.addIssue({ code: "custom", message: `"${value}" must not have a query or fragment` });
  }
  return url.href.replace(/\/+$/, "");
}

/** A CIDR (IPv4 or IPv6) as "address/prefix", or undefined when `value` is not one. */
function parseCidr(value: string): { address: string; prefix: number; family: 4 | 6 } | undefined {
  const m = /^([^/]+)\/([0-9]{1,3})$/.exec(value);
  if (m === null) return undefined;
  const family = isIP(m[1] ?? "");
  const prefix = Number(m[2]);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
  return { address: m[1] ?? "", prefix, family: family as 4 | 6 };
}

function insecureEntry(value: string, ctx: z.RefinementCtx): string {
  if (value.includes("://")) {
    ctx.addIssue({
      code: "custom",
      message: `"${value}" must be host[:port] or a CIDR, without a scheme`,
    });
  } else if (value.includes("/")) {
    if (parseCidr(value) === undefined) {
      ctx.addIssue({ code: "custom", message: `"${value}" is not a valid CIDR (e.g. 10.0.0.0/8)` });
    }
  } else if (!HOST_PORT.test(value) || Number(/:([0-9]+)$/.exec(value)?.[1] ?? 1) > 65535) {
    ctx.addIssue({ code: "custom", message: `"${value}" is not a valid host[:port]` });
  }
  return value.toLowerCase();
}

function bridgeIp(value: string, ctx: z.RefinementCtx): BridgeIp {
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(value);
  const prefix = Number(m?.[2]);
  let address: number | undefined;
  try {
    address = m ? parseIp(m[1] ?? "") : undefined;
  } catch {
    address = undefined;
  }
  if (address === undefined || prefix < 8 || prefix > 30) {
    ctx.addIssue({
      code: "custom",
      message: `"${value}" must be the bridge's IPv4 address with a prefix from /8 to /30, e.g. 172.26.0.1/16`,
    });
    return z.NEVER;
  }
  const size = 2 ** (32 - prefix);
  const base = address - (address % size);
  if (address === base || address === base + size - 1) {
    ctx.addIssue({
      code: "custom",
      message: `"${value}" is the network or broadcast address of its subnet; use a host address such as ${formatIp(base + 1)}/${prefix}`,
    });
    return z.NEVER;
  }
  return { cidr: value, address: formatIp(address), subnet: `${formatIp(base)}/${prefix}`, prefix };
}

const FileSchema = z.strictObject({
  "registry-mirrors": z.array(z.string().transform(mirrorUrl)).optional(),
  "insecure-registries": z.array(z.string().transform(insecureEntry)).optional(),
  bip: z.string().transform(bridgeIp).optional(),
});

const KNOWN_KEYS = Object.keys(FileSchema.shape).join(", ");

/** `"registry-mirrors"[1]` for an issue's path. */
function keyOf(path: readonly PropertyKey[]): string {
  const [first, ...rest] = path;
  return JSON.stringify(String(first)) + rest.map((p) => `[${String(p)}]`).join("");
}

function issueMessage(issue: z.core.$ZodIssue, file: string): string {
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const hint =
      key === "default-registry"
        ? 'short names always mean docker.io, as in Docker; use "registry-mirrors" to pull them through another registry'
        : `known keys: ${KNOWN_KEYS}`;
    return `unknown key ${JSON.stringify(key)} in ${file} (${hint})`;
  }
  if (issue.path.length === 0)
    return `${file} must hold a JSON object, e.g. {"registry-mirrors": []}`;
  // zod's own messages ("Invalid input: expected array, received string") are clear enough.
  return `invalid ${keyOf(issue.path)} in ${file}: ${issue.message}`;
}

/** Validates a parsed config document; throws a ConfigError with one line on any problem. */
export function parseRuntimeConfig(document: unknown, file: string): RuntimeConfig {
  const result = FileSchema.safeParse(document);
  if (!result.success) {
    const first = result.error.issues[0];
    throw new ConfigError(first ? issueMessage(first, file) : `invalid configuration in ${file}`);
  }
  const data = result.data;
  return {
    path: file,
    registryMirrors: data["registry-mirrors"] ?? [],
    insecureRegistries: data["insecure-registries"] ?? [],
    bip: data.bip,
  };
}

/**
 * Reads the configuration: the file CORRAL_CONFIG names (which must exist), else
 * /etc/corral/runtime.json when it exists, else the defaults.
 */
export function loadRuntimeConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const explicit = env.CORRAL_CONFIG;
  const file = explicit || DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !explicit) return { ...DEFAULT_CONFIG };
    const why =
      code === "ENOENT" ? "no such file (CORRAL_CONFIG names it)" : (err as Error).message;
    throw new ConfigError(`cannot read configuration ${file}: ${why}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseRuntimeConfig(document, file);
}

/** Splits `host[:port]` (with `[v6]` literals) into host and port. */
export function splitHost(hostPort: string): { host: string; port: string | undefined } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostPort);
  if (m === null) return { host: hostPort, port: undefined };
  return { host: m[1] ?? hostPort, port: m[2] };
}

/**
 * The CIDR entries of an `insecure-registries` list as one BlockList, built once per list: a
 * configuration's array is the same object for every request until the next reload.
 */
const cidrLists = new WeakMap<readonly string[], BlockList>();

function cidrListOf(entries: readonly string[]): BlockList {
  let list = cidrLists.get(entries);
  if (list === undefined) {
    list = new BlockList();
    for (const entry of entries) {
      const cidr = parseCidr(entry.toLowerCase());
      if (cidr !== undefined) {
        list.addSubnet(cidr.address, cidr.prefix, cidr.family === 4 ? "ipv4" : "ipv6");
      }
    }
    cidrLists.set(entries, list);
  }
  return list;
}

/**
 * Whether `entries` (config `insecure-registries`) cover `hostPort`: by `host:port`, by
 * `host`, or, for an IP address, by a CIDR. Host names are not resolved for CIDR matching.
 */
export function matchesInsecure(hostPort: string, entries: readonly string[]): boolean {
  const lower = hostPort.toLowerCase();
  const { host } = splitHost(lower);
  if (entries.some((entry) => entry.toLowerCase() === lower || entry.toLowerCase() === host)) {
    return true;
  }
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  const family = isIP(bare);
  return family !== 0 && cidrListOf(entries).check(bare, family === 4 ? "ipv4" : "ipv6");
}
