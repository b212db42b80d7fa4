// The networks a runtime knows, persisted as <root>/network/<name>.json: Docker's three
// built-ins (`bridge`, the default, whose subnet is chosen on first use; `host`; `none`) and
// user-defined bridge networks. Only definitions live here; links, rules and addresses are
// the manager's.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_ROOT } from "../paths.js";
import { writeFileAtomicSync } from "../util/atomic-file.js";
import { UserError } from "../util/errors.js";
import { SubnetClaims } from "./subnet-claims.js";
import {
  formatIp,
  formatSubnet,
  gatewayOf,
  overlaps,
  parseIp,
  parseSubnet,
  size,
  type Subnet,
} from "./subnet.js";

export const DEFAULT_NETWORK = "bridge";
/** A network's name (a reference to one may also be its id, 64 characters). */
export const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

export interface NetworkConfig {
  id: string;
  name: string;
  /** The Linux bridge (15 characters at most). */
  bridge: string;
  subnet: string;
  gateway: string;
  created: string;
  labels: Record<string, string>;
}

/** What `network ls/inspect` shows, including the pseudo-networks host and none. */
export interface NetworkInfo {
  id: string;
  name: string;
  driver: "bridge" | "host" | "null";
  config?: NetworkConfig;
}

export interface CreateNetworkOptions {
  name: string;
  subnet?: string;
  gateway?: string;
  labels?: Record<string, string>;
}

/** Stable ids for the pseudo-networks (a hash of the root and the name), as Docker has ids for them. */
function pseudoId(root: string, name: string): string {
  return createHash("sha256").update(`${root}\0${name}`).digest("hex");
}

export class NetworkStore {
  readonly dir: string;
  private readonly rootHash: string;
  /** Subnets chosen by every runtime of this machine, so that two never choose the same. */
  private readonly claims: SubnetClaims;

  constructor(
    private readonly root: string,
    /** The default bridge's subnet (configuration `bip`, or CORRAL_BRIDGE_SUBNET). */
    private readonly defaultSubnet?: string,
    /** Its address (`bip`'s), the subnet's first by default. */
    private readonly defaultGateway?: string,
  ) {
    this.dir = join(root, "network");
    this.rootHash = createHash("sha256").update(root).digest("hex");
    this.claims = new SubnetClaims(root);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  get isDefaultRoot(): boolean {
    return this.root === DEFAULT_ROOT;
  }

  /** Prefix of every bridge of this runtime: how leftovers are found after a crash. */
  get bridgePrefix(): string {
    return this.isDefaultRoot ? "corral" : `cr${this.rootHash.slice(0, 5)}`;
  }

  private bridgeFor(id: string): string {
    if (id === pseudoId(this.root, DEFAULT_NETWORK))
      return this.isDefaultRoot ? "corral0" : `cr${this.rootHash.slice(0, 10)}`;
    return this.isDefaultRoot
      ? `corral-${id.slice(0, 8)}`
      : `${this.bridgePrefix}${id.slice(0, 8)}`;
  }

  private file(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  ipamFile(name: string): string {
    return join(this.dir, `${name}.ipam.json`);
  }

  private read(name: string): NetworkConfig | undefined {
    const file = this.file(name);
    if (!existsSync(file)) return undefined;
    const config = JSON.parse(readFileSync(file, "utf8")) as Partial<NetworkConfig> &
      Pick<NetworkConfig, "name" | "bridge" | "subnet">;
    // bridge.json of the first release (name, bridge, subnet only): the rest as it was then.
    return {
      ...config,
      id: config.id ?? pseudoId(this.root, config.name),
      gateway: config.gateway ?? formatIp(gatewayOf(parseSubnet(config.subnet))),
      created: config.created ?? statSync(file).mtime.toISOString(),
      labels: config.labels ?? {},
    };
  }

  /** Read once, dropped on every change: the daemon is the only writer. */
  private cached: NetworkConfig[] | undefined;

  /** Bridge networks with a definition on disk (the default one once used, and user ones). */
  bridgeNetworks(): NetworkConfig[] {
    this.cached ??= readdirSync(this.dir)
      .filter((f) => f.endsWith(".json") && !f.endsWith(".ipam.json"))
      .map((f) => this.read(f.slice(0, -".json".length)))
      .filter((c): c is NetworkConfig => c !== undefined);
    return this.cached;
  }

  private write(config: NetworkConfig): void {
    writeFileAtomicSync(this.file(config.name), JSON.stringify(config));
    this.cached = undefined;
  }

  /** The default bridge's definition, choosing its subnet on first use. */
  defaultNetwork(hostRoutes: () => Subnet[]): NetworkConfig {
    const existing = this.bridgeNetworks().find((n) => n.name === DEFAULT_NETWORK);
    if (existing) return existing;
    const taken = [...hostRoutes(), ...this.bridgeNetworks().map((n) => parseSubnet(n.subnet))];
    const subnet = this.defaultSubnet ? parseSubnet(this.defaultSubnet) : this.claims.pick(taken);
    const id = pseudoId(this.root, DEFAULT_NETWORK);
    const config: NetworkConfig = {
      id,
      name: DEFAULT_NETWORK,
      bridge: this.bridgeFor(id),
      subnet: formatSubnet(subnet),
      gateway: this.defaultGateway ?? formatIp(gatewayOf(subnet)),
      created: new Date().toISOString(),
      labels: {},
    };
    this.write(config);
    return config;
  }

  /**
   * The default bridge as configured now differs from the one on disk (`bip` changed): forget
   * the old definition so that the next use creates it anew. Returns the old one.
   */
  forgetChangedDefault(): NetworkConfig | undefined {
    const existing = this.read(DEFAULT_NETWORK);
    if (!existing || !this.defaultSubnet) return undefined;
    const gateway = this.defaultGateway ?? formatIp(gatewayOf(parseSubnet(this.defaultSubnet)));
    if (existing.subnet === this.defaultSubnet && existing.gateway === gateway) return undefined;
    this.remove(DEFAULT_NETWORK);
    return existing;
  }

  list(hostRoutes: () => Subnet[]): NetworkInfo[] {
    const user = this.bridgeNetworks().filter((n) => n.name !== DEFAULT_NETWORK);
    return [
      {
        id: pseudoId(this.root, DEFAULT_NETWORK),
        name: DEFAULT_NETWORK,
        driver: "bridge",
        config: this.defaultNetwork(hostRoutes),
      },
      { id: pseudoId(this.root, "host"), name: "host", driver: "host" },
      { id: pseudoId(this.root, "none"), name: "none", driver: "null" },
      ...user
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((c) => ({ id: c.id, name: c.name, driver: "bridge" as const, config: c })),
    ];
  }

  /** By name, full id or unique id prefix (Docker's rules). */
  find(ref: string, hostRoutes: () => Subnet[]): NetworkInfo {
    const all = this.list(hostRoutes);
    const byName = all.find((n) => n.name === ref);
    if (byName) return byName;
    const byId = all.filter((n) => ref.length > 0 && n.id.startsWith(ref));
    if (byId.length === 1) return byId[0] as NetworkInfo;
    if (byId.length > 1)
      throw new UserError(
        `network ${ref} is ambiguous (${byId.length} matches): give more of the id`,
      );
    throw new UserError(
      `network ${ref} not found: list networks with "corral-rt network ls" or create it`,
      404,
    );
  }

  create(options: CreateNetworkOptions, hostRoutes: () => Subnet[]): NetworkConfig {
    const { name } = options;
    if (!NETWORK_NAME.test(name))
      throw new UserError(
        `invalid network name "${name}": use letters, digits, '_', '.' or '-' (up to 64)`,
      );
    if (["bridge", "host", "none", "default"].includes(name))
      throw new UserError(`network name "${name}" is reserved: choose another name`, 409);
    if (this.read(name)) throw new UserError(`network with name ${name} already exists`, 409);
    const routes = hostRoutes();
    const others = this.bridgeNetworks().map((n) => ({
      name: n.name,
      subnet: parseSubnet(n.subnet),
    }));
    let subnet: Subnet;
    if (options.subnet) {
      try {
        subnet = parseSubnet(options.subnet);
      } catch (err) {
        throw new UserError((err as Error).message);
      }
      const clash = others.find((o) => overlaps(o.subnet, subnet));
      if (clash)
        throw new UserError(
          `subnet ${options.subnet} overlaps network ${clash.name} (${formatSubnet(clash.subnet)}): choose another --subnet`,
          409,
        );
      if (routes.some((r) => overlaps(r, subnet)))
        throw new UserError(
          `subnet ${options.subnet} overlaps a route of this host: choose another --subnet`,
          409,
        );
      if (
        this.claims.others().some((o) => overlaps(o, subnet)) ||
        !this.claims.claim(formatSubnet(subnet))
      )
        throw new UserError(
          `subnet ${options.subnet} overlaps a network of another Corral runtime on this machine: choose another --subnet`,
          409,
        );
    } else {
      subnet = this.claims.pick([...routes, ...others.map((o) => o.subnet)]);
    }
    let gateway = formatIp(gatewayOf(subnet));
    if (options.gateway) {
      let g: number;
      try {
        g = parseIp(options.gateway);
      } catch (err) {
        throw new UserError((err as Error).message);
      }
      if (g <= subnet.base || g >= subnet.base + size(subnet) - 1)
        throw new UserError(
          `gateway ${options.gateway} is not a host address of ${formatSubnet(subnet)}`,
        );
      gateway = options.gateway;
    }
    const id = randomBytes(32).toString("hex");
    const config: NetworkConfig = {
      id,
      name,
      bridge: this.bridgeFor(id),
      subnet: formatSubnet(subnet),
      gateway,
      created: new Date().toISOString(),
      labels: options.labels ?? {},
    };
    this.write(config);
    return config;
  }

  remove(name: string): void {
    const config = this.read(name);
    if (config) this.claims.release(config.subnet);
    rmSync(this.file(name), { force: true });
    rmSync(this.ipamFile(name), { force: true });
    this.cached = undefined;
  }
}
