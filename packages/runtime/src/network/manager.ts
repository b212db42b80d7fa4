// Container networking, Docker's default bridge model: one bridge (corral0) on a subnet that
// collides with no host route, a veth pair per container with eth0 inside, addresses from a
// persisted IPAM. The container's end dies with its network namespace, taking the host end
// with it, so an exit leaves no link behind.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Mutex } from "../util/mutex.js";
import { writeFileAtomicSync } from "../util/atomic-file.js";
import { Ipam } from "./ipam.js";
import { ipBatch, ipBatchIn, ipJson, linkExists } from "./iproute.js";
import {
  formatIp,
  formatSubnet,
  gatewayOf,
  parseSubnet,
  pickSubnet,
  routeSubnets,
  type Subnet,
} from "./subnet.js";

export const DEFAULT_NETWORK = "bridge";
export const DEFAULT_BRIDGE = "corral0";
const DEFAULT_ROOT = "/var/lib/corral";

export interface NetworkAttachment {
  network: string;
  ipAddress: string;
  prefixLen: number;
  gateway: string;
  macAddress: string;
  /** The host end of the container's veth pair (on the bridge). */
  hostVeth: string;
}

/** Link names for a pool slot: `vs…` on the host, `vq…` until it becomes eth0 inside. */
function vethNames(slotId: string): { host: string; peer: string } {
  return { host: `vs${slotId.slice(0, 12)}`, peer: `vq${slotId.slice(0, 12)}` };
}

interface NetworkConfig {
  name: string;
  bridge: string;
  subnet: string;
}

export class NetworkManager {
  private readonly dir: string;
  private readonly mutex = new Mutex();
  /** corral0 for the host's runtime; other state roots (tests, a second runtime) get their own. */
  private readonly bridgeName: string;

  constructor(root: string) {
    this.dir = join(root, "network");
    this.bridgeName =
      root === DEFAULT_ROOT
        ? DEFAULT_BRIDGE
        : `cr${createHash("sha256").update(root).digest("hex").slice(0, 10)}`;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  private configFile(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  /** The default network's config, choosing its subnet on first use (CORRAL_BRIDGE_SUBNET overrides). */
  private defaultConfig(): NetworkConfig {
    const file = this.configFile(DEFAULT_NETWORK);
    if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as NetworkConfig;
    const wanted = process.env.CORRAL_BRIDGE_SUBNET;
    const subnet = wanted
      ? parseSubnet(wanted)
      : pickSubnet(routeSubnets(ipJson<{ dst: string }[]>(["route", "show"])));
    const config = { name: DEFAULT_NETWORK, bridge: this.bridgeName, subnet: formatSubnet(subnet) };
    writeFileAtomicSync(file, JSON.stringify(config));
    return config;
  }

  private bridgeReady = false;
  private mtu: number | undefined;

  private ensureBridge(config: NetworkConfig, subnet: Subnet): void {
    if (this.bridgeReady) return;
    this.bridgeReady = true;
    if (linkExists(config.bridge)) return;
    ipBatch([
      `link add ${config.bridge} type bridge`,
      `addr add ${formatIp(gatewayOf(subnet))}/${subnet.prefix} dev ${config.bridge}`,
      `link set ${config.bridge} up`,
    ]);
  }

  /** MTU of the host's default route, as Docker uses for its bridge. */
  private hostMtu(): number {
    if (this.mtu !== undefined) return this.mtu;
    this.mtu = this.readHostMtu();
    return this.mtu;
  }

  private readHostMtu(): number {
    const route = ipJson<{ dst: string; dev?: string }[]>(["route", "show", "default"])[0];
    if (!route?.dev) return 1500;
    return ipJson<{ mtu?: number }[]>(["link", "show", route.dev])[0]?.mtu ?? 1500;
  }

  private readonly prewired = new Set<string>();

  /**
   * Off the start path, while an init waits in the pool: a veth pair whose host end is on the
   * bridge and whose other end is already in the init's network namespace. Creating a veth and
   * moving it costs ~30 ms of kernel time here; a start then only configures it.
   */
  prewire(pid: number, slotId: string): Promise<void> {
    return this.mutex.run(async () => {
      const config = this.defaultConfig();
      this.ensureBridge(config, parseSubnet(config.subnet));
      const { host, peer } = vethNames(slotId);
      const mtu = this.hostMtu();
      const commands = [
        `link add ${host} mtu ${mtu} type veth peer name ${peer} mtu ${mtu}`,
        `link set ${host} master ${config.bridge} up`,
        `link set ${peer} netns ${pid}`,
      ];
      try {
        ipBatch(commands);
      } catch (err) {
        // A host end left by a crash: clear it and try once more.
        if (!linkExists(host)) throw err;
        ipBatch([`link del ${host}`]);
        ipBatch(commands);
      }
      this.prewired.add(slotId);
    });
  }

  /** Gives the pre-started process `pid` (pool slot `slotId`) its eth0 on the default bridge. */
  async connect(containerId: string, pid: number, slotId: string): Promise<NetworkAttachment> {
    if (!this.prewired.has(slotId)) await this.prewire(pid, slotId);
    this.prewired.delete(slotId);
    return this.mutex.run(async () => {
      const config = this.defaultConfig();
      const subnet = parseSubnet(config.subnet);
      const ipam = new Ipam(join(this.dir, `${config.name}.ipam.json`), subnet);
      const ip = ipam.allocate(containerId);
      const gateway = formatIp(gatewayOf(subnet));
      // Docker's scheme: 02:42 and the IPv4 address.
      const mac = [
        "02",
        "42",
        ...ip.split(".").map((o) => Number(o).toString(16).padStart(2, "0")),
      ].join(":");
      try {
        ipBatchIn(pid, [
          `link set ${vethNames(slotId).peer} name eth0`,
          `link set eth0 address ${mac}`,
          `addr add ${ip}/${subnet.prefix} dev eth0`,
          `link set eth0 up`,
          `route add default via ${gateway}`,
        ]);
      } catch (err) {
        ipam.release(containerId);
        throw err;
      }
      return {
        network: config.name,
        ipAddress: ip,
        prefixLen: subnet.prefix,
        gateway,
        macAddress: mac,
        hostVeth: vethNames(slotId).host,
      };
    });
  }

  /** For --network none: the pre-wired link leaves the init's namespace (loopback only). */
  async unwire(pid: number, slotId: string): Promise<void> {
    if (!this.prewired.delete(slotId)) return;
    ipBatchIn(pid, [`link del ${vethNames(slotId).peer}`]);
  }

  /** Returns the container's address to the pool (its links died with its namespace). */
  release(containerId: string): Promise<void> {
    return this.mutex.run(async () => {
      const file = this.configFile(DEFAULT_NETWORK);
      if (!existsSync(file)) return;
      const config = JSON.parse(readFileSync(file, "utf8")) as NetworkConfig;
      new Ipam(join(this.dir, `${config.name}.ipam.json`), parseSubnet(config.subnet)).release(
        containerId,
      );
    });
  }
}
