// Container networking in Docker's bridge model: one Linux bridge per network (the default
// `bridge` and user-defined ones), a veth pair per container and network with ethN inside,
// addresses from a persisted IPAM, egress NAT and published ports in Corral's own nftables
// table. A container's links die with its network namespace, so an exit leaves none behind;
// whatever a crash leaves (a bridge of a removed network, a stray veth, a lease) is removed by
// reconcile() when the daemon starts.
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { Mutex } from "../util/mutex.js";
import { UserError } from "../util/errors.js";
import { Ipam } from "./ipam.js";
import { ipBatchAsync, ipBatchInAsync, ipJson, linkExists } from "./iproute.js";
import { applyRuleset, renderRuleset, tableName, type FirewallModel } from "./nftables.js";
import {
  DEFAULT_NETWORK,
  NetworkStore,
  type CreateNetworkOptions,
  type NetworkConfig,
  type NetworkInfo,
} from "./networks.js";
import { PortReservations } from "./ports.js";
import type { PortBinding, PortRequest } from "./port-spec.js";
import { EmbeddedDns } from "./dns.js";
import { deleteLink } from "./netlink.js";
import { readResolvConf, type ResolvConf } from "./resolv-conf.js";
import { formatSubnet, parseSubnet, routeSubnets, type Subnet } from "./subnet.js";

export { DEFAULT_NETWORK } from "./networks.js";

export interface NetworkAttachment {
  network: string;
  networkId: string;
  /** Inside the container: eth0 for the first network, eth1... for those connected later. */
  ifName: string;
  ipAddress: string;
  prefixLen: number;
  gateway: string;
  macAddress: string;
  /** The host end of the container's veth pair (on the network's bridge). */
  hostVeth: string;
  aliases: string[];
}

/** A network a container is (to be) on, with the extra names it answers to there. */
export interface EndpointRequest {
  network: string;
  aliases: string[];
}

export interface ContainerIdentity {
  id: string;
  name: string;
}

/**
 * The MTU of Corral's bridges and veths: loopback's. Between containers (and between them and
 * the host) packets are never on a wire, and 1500-byte frames cost ~40 % of the throughput
 * (bench/results/network.md). Traffic that leaves the host keeps the host's MTU: the default
 * route inside the container carries it (`mtu` on the route), so TCP picks the right MSS.
 */
const LINK_MTU = 65535;

/** The host end of a pool slot's veth (the other end is eth0 in the init's namespace). */
/** Whether the kernel has IPv6 at all (`ipv6.disable=1` removes it, and addrgenmode fails). */
const HOST_HAS_IPV6 = existsSync("/proc/sys/net/ipv6");

function slotVeth(slotId: string): string {
  return `vs${slotId.slice(0, 12)}`;
}

/** What a container's init needs to configure its eth0 itself (see container/init.ts). */
export interface InterfaceSetup {
  ifName: string;
  mac: string;
  mtu: number;
  address: string;
  prefixLen: number;
  gateway: string;
  /** MTU of the default route: the host's uplink's. */
  routeMtu: number;
}

/** Docker's scheme: 02:42 and the IPv4 address. */
function macFor(ip: string): string {
  return ["02", "42", ...ip.split(".").map((o) => Number(o).toString(16).padStart(2, "0"))].join(
    ":",
  );
}

interface RunningEndpoints {
  name: string;
  attachments: NetworkAttachment[];
  ports: PortBinding[];
}

export class NetworkManager {
  readonly store: NetworkStore;
  private readonly mutex = new Mutex();
  private readonly reservations = new PortReservations();
  private readonly table: string;
  /** Running containers' networks and ports: what the firewall and name lookups are made of. */
  private readonly running = new Map<string, RunningEndpoints>();
  private readonly readyBridges = new Set<string>();
  private readonly prewired = new Set<string>();
  private appliedRuleset = "";
  /** Names on user networks (not on the default bridge, as in Docker), served on each gateway. */
  private readonly dns: EmbeddedDns;
  private readonly dnsListening = new Set<string>();
  /** The host resolv.conf's nameservers and search domains the resolver forwards with. */
  private upstreamsKey = "";
  private mtu: number | undefined;

  constructor(root: string, options: { defaultSubnet?: string; defaultGateway?: string } = {}) {
    this.store = new NetworkStore(
      root,
      options.defaultSubnet ?? process.env.CORRAL_BRIDGE_SUBNET,
      options.defaultGateway,
    );
    this.table = tableName(root, this.store.isDefaultRoot);
    this.dns = new EmbeddedDns({
      log: (message) => process.stderr.write(`corral-rtd: dns: ${message}\n`),
    });
    this.updateUpstreams(readResolvConf());
  }

  /** The resolver forwards to the host's nameservers as they are now (the file may change). */
  private updateUpstreams(host: ResolvConf): void {
    const key = JSON.stringify([host.nameservers, host.search]);
    if (key === this.upstreamsKey) return;
    this.upstreamsKey = key;
    this.dns.setUpstreams(
      host.nameservers.map((address) => ({ address })),
      host.search,
    );
  }

  /** The resolv.conf of a container whose first network is `network`. */
  resolvConf(network: string): string | undefined {
    if (network === DEFAULT_NETWORK) return undefined; // the host's, as Docker's default bridge
    const config = this.store.bridgeNetworks().find((n) => n.name === network);
    // No resolver on that gateway (port 53 taken there, see serveNames): the host's
    // nameservers at least, rather than one that answers nothing.
    if (!config || !this.dnsListening.has(network)) return undefined;
    const host = readResolvConf();
    this.updateUpstreams(host);
    return [
      `nameserver ${config.gateway}`,
      ...(host.search.length ? [`search ${host.search.join(" ")}`] : []),
      "options ndots:0",
      "",
    ].join("\n");
  }

  /** The embedded resolver listens on a user network's gateway, port 53. */
  private async serveNames(config: NetworkConfig): Promise<void> {
    if (config.name === DEFAULT_NETWORK || this.dnsListening.has(config.name)) return;
    try {
      await this.dns.listen({
        network: config.name,
        address: config.gateway,
        port: 53,
        clients: config.subnet,
      });
      this.dnsListening.add(config.name);
    } catch (err) {
      process.stderr.write(
        `corral-rtd: containers on network ${config.name} cannot resolve names: ${(err as Error).message}\n`,
      );
    }
  }

  private updateNames(): void {
    this.dns.setRecords(
      [...this.running].flatMap(([containerId, r]) =>
        r.attachments
          .filter((a) => a.network !== DEFAULT_NETWORK)
          .map((a) => ({
            network: a.network,
            containerId,
            name: r.name,
            aliases: a.aliases,
            ipv4: a.ipAddress,
          })),
      ),
    );
  }

  private readonly hostRoutes = (): Subnet[] =>
    routeSubnets(ipJson<{ dst: string }[]>(["route", "show"])).filter(
      // A Corral bridge's own route is not a collision with itself.
      (r) => !this.store.bridgeNetworks().some((n) => n.subnet === formatSubnet(r)),
    );

  // ---- networks -------------------------------------------------------------------------

  list(): NetworkInfo[] {
    return this.store.list(this.hostRoutes);
  }

  find(ref: string): NetworkInfo {
    return this.store.find(ref, this.hostRoutes);
  }

  /** Containers running on a network, with their attachment there. */
  endpointsOn(networkName: string): { id: string; name: string; attachment: NetworkAttachment }[] {
    return [...this.running].flatMap(([id, r]) =>
      r.attachments
        .filter((a) => a.network === networkName)
        .map((attachment) => ({ id, name: r.name, attachment })),
    );
  }

  create(options: CreateNetworkOptions): Promise<NetworkConfig> {
    return this.mutex.run(async () => {
      this.store.defaultNetwork(this.hostRoutes); // the default bridge keeps the first subnet
      const config = this.store.create(options, this.hostRoutes);
      try {
        await this.ensureBridge(config);
        await this.syncFirewall();
        await this.serveNames(config);
      } catch (err) {
        this.store.remove(config.name);
        if (linkExists(config.bridge)) await ipBatchAsync([`link del ${config.bridge}`]);
        throw err;
      }
      return config;
    });
  }

  /** Removes a user network; refused while containers (running or not) are on it. */
  remove(ref: string, usedBy: (network: string) => string[]): Promise<NetworkInfo> {
    return this.mutex.run(async () => {
      const info = this.find(ref);
      if (info.name === DEFAULT_NETWORK || !info.config)
        throw new UserError(`${info.name} is a pre-defined network and cannot be removed`, 409);
      const users = usedBy(info.name);
      if (users.length > 0)
        throw new UserError(
          `error while removing network: network ${info.name} id ${info.id} has active endpoints (${users.join(", ")}): remove them or disconnect them first`,
          409,
        );
      this.dropIpam(info.config);
      this.store.remove(info.name);
      this.readyBridges.delete(info.config.bridge);
      if (this.dnsListening.delete(info.name))
        await this.dns.unlisten({ address: info.config.gateway, port: 53 });
      await this.syncFirewall();
      if (linkExists(info.config.bridge)) await ipBatchAsync([`link del ${info.config.bridge}`]);
      return info;
    });
  }

  /** A bridge network's definition for a container's endpoint; host and none are not bridges. */
  private bridgeNetwork(name: string): NetworkConfig {
    if (name === DEFAULT_NETWORK) return this.store.defaultNetwork(this.hostRoutes);
    const info = this.find(name);
    if (!info.config)
      throw new UserError(`network ${name} cannot be combined with other networks`, 409);
    return info.config;
  }

  private async ensureBridge(config: NetworkConfig): Promise<void> {
    if (this.readyBridges.has(config.bridge)) return;
    // A fixed MAC: a bridge otherwise takes its ports' lowest, so a container joining could
    // change the gateway's MAC under the others' ARP caches (they would lose the gateway: DNS,
    // egress) until those expire.
    const mac = `link set ${config.bridge} address ${macFor(config.gateway)}`;
    if (!linkExists(config.bridge)) {
      const prefix = parseSubnet(config.subnet).prefix;
      await ipBatchAsync([
        `link add ${config.bridge} mtu ${LINK_MTU} type bridge`,
        mac,
        `addr add ${config.gateway}/${prefix} dev ${config.bridge}`,
        `link set ${config.bridge} up`,
      ]);
    } else {
      await ipBatchAsync([mac]);
    }
    // Routing for egress and published ports (Docker sets the same); route_localnet lets
    // 127.0.0.1:PORT be DNATed to a container (see nftables.ts for the guard that goes with it).
    writeFileSync("/proc/sys/net/ipv4/ip_forward", "1\n");
    writeFileSync(`/proc/sys/net/ipv4/conf/${config.bridge}/route_localnet`, "1\n");
    this.readyBridges.add(config.bridge);
  }

  /** MTU of the host's default route: what containers' traffic leaving the host must fit. */
  private hostMtu(): number {
    if (this.mtu !== undefined) return this.mtu;
    const route = ipJson<{ dst: string; dev?: string }[]>(["route", "show", "default"])[0];
    this.mtu = route?.dev
      ? (ipJson<{ mtu?: number }[]>(["link", "show", route.dev])[0]?.mtu ?? 1500)
      : 1500;
    return this.mtu;
  }

  private vethCommands(host: string, peer: string, bridge: string, pid: number): string[] {
    const mtu = LINK_MTU;
    return [
      // Created inside the namespace under its final name: a rename later costs milliseconds
      // (the kernel waits for an RCU grace period), more on a busy host.
      `link add ${host} mtu ${mtu} type veth peer name ${peer} mtu ${mtu} netns ${pid}`,
      `link set ${host} master ${bridge} up`,
      // A container may reach its own published port through the host.
      `link set ${host} type bridge_slave hairpin on`,
    ];
  }

  // ---- container start and stop ---------------------------------------------------------

  /**
   * Off the start path, while an init waits in the pool: a veth pair whose host end is on the
   * default bridge and whose other end is already in the init's network namespace. Creating a
   * veth and moving it costs ~30 ms of kernel time here; a start then only configures it.
   */
  prewire(pid: number, slotId: string): Promise<void> {
    return this.mutex.run(async () => {
      const config = this.store.defaultNetwork(this.hostRoutes);
      await this.ensureBridge(config);
      const host = slotVeth(slotId);
      const commands = this.vethCommands(host, "eth0", config.bridge, pid);
      try {
        await ipBatchAsync(commands);
      } catch (err) {
        // A host end left by a crash: clear it and try once more.
        if (!linkExists(host)) throw err;
        await ipBatchAsync([`link del ${host}`]);
        await ipBatchAsync(commands);
      }
      this.prewired.add(slotId);
    });
  }

  /** For --network none or host: the pre-wired link leaves the init's namespace. */
  unwire(slotId: string): void {
    if (!this.prewired.delete(slotId)) return;
    // From the host's side, over rtnetlink: no nsenter process on this start's path.
    deleteLink(slotVeth(slotId));
  }

  /** A slot's init died unused (a start failed before its network): its veth went with it. */
  forgetSlot(slotId: string): void {
    this.prewired.delete(slotId);
  }

  /**
   * Puts the pre-started process `pid` (pool slot `slotId`) on its networks, first one as
   * eth0 with the default route, and publishes its ports. On failure nothing is held.
   */
  async connectAtStart(
    c: ContainerIdentity,
    pid: number,
    slotId: string,
    endpoints: readonly EndpointRequest[],
    publish: readonly PortRequest[],
  ): Promise<{ attachments: NetworkAttachment[]; ports: PortBinding[]; eth0?: InterfaceSetup }> {
    if (!this.prewired.has(slotId)) await this.prewire(pid, slotId);
    this.prewired.delete(slotId);
    return this.mutex.run(async () => {
      const attachments: NetworkAttachment[] = [];
      let ports: PortBinding[] = [];
      try {
        ports = await this.reservations.reserve(c, publish);
        for (const [index, endpoint] of endpoints.entries()) {
          const wired = index === 0 ? slotVeth(slotId) : undefined;
          attachments.push(await this.attach(c.id, pid, endpoint, `eth${index}`, wired));
        }
        // Copies: the caller keeps these arrays in the container's record.
        this.running.set(c.id, { name: c.name, attachments: [...attachments], ports: [...ports] });
        await this.syncFirewall();
        this.updateNames();
      } catch (err) {
        this.running.delete(c.id);
        this.reservations.release(c.id);
        for (const a of attachments) this.releaseLease(c.id, a.network);
        throw err;
      }
      const first = attachments[0];
      const eth0 = first && {
        ifName: "eth0",
        mac: first.macAddress,
        mtu: LINK_MTU,
        routeMtu: this.hostMtu(),
        address: first.ipAddress,
        prefixLen: first.prefixLen,
        gateway: first.gateway,
      };
      return { attachments, ports, eth0 };
    });
  }

  /**
   * One network for a container: a veth pair and an address. The pre-wired eth0 (`wiredHost`,
   * its host end) is left for the init to configure; later ones are configured here.
   */
  private async attach(
    containerId: string,
    pid: number,
    endpoint: EndpointRequest,
    ifName: string,
    wiredHost?: string,
  ): Promise<NetworkAttachment> {
    const config = this.bridgeNetwork(endpoint.network);
    await this.ensureBridge(config);
    const subnet = parseSubnet(config.subnet);
    const ipam = this.ipamFor(config);
    const ip = ipam.allocate(containerId);
    const mac = macFor(ip);
    const suffix = randomBytes(6).toString("hex");
    const hostVeth = wiredHost ?? `vc${suffix}`;
    try {
      if (wiredHost) {
        if (config.name !== DEFAULT_NETWORK)
          await ipBatchAsync([
            `link set ${hostVeth} master ${config.bridge}`,
            // A new bridge port starts with hairpin off, as vethCommands knows.
            `link set ${hostVeth} type bridge_slave hairpin on`,
          ]);
      } else {
        await ipBatchAsync(this.vethCommands(hostVeth, ifName, config.bridge, pid));
        await ipBatchInAsync(pid, [
          `link set ${ifName} address ${mac}`,
          // No IPv6 address while the network has none, as the init does for eth0.
          ...(HOST_HAS_IPV6 ? [`link set ${ifName} addrgenmode none`] : []),
          `addr add ${ip}/${subnet.prefix} dev ${ifName}`,
          `link set ${ifName} up`,
        ]);
      }
    } catch (err) {
      ipam.release(containerId);
      if (!wiredHost && linkExists(hostVeth)) await ipBatchAsync([`link del ${hostVeth}`]);
      throw err;
    }
    return {
      network: config.name,
      networkId: config.id,
      ifName,
      ipAddress: ip,
      prefixLen: subnet.prefix,
      gateway: config.gateway,
      macAddress: mac,
      hostVeth,
      aliases: endpoint.aliases,
    };
  }

  /** `network connect` for a running container: a new interface, at once. */
  connectRunning(
    c: ContainerIdentity,
    pid: number,
    endpoint: EndpointRequest,
  ): Promise<NetworkAttachment> {
    return this.mutex.run(async () => {
      const entry = this.running.get(c.id) ?? { name: c.name, attachments: [], ports: [] };
      const used = new Set(entry.attachments.map((a) => a.ifName));
      let n = 0;
      while (used.has(`eth${n}`)) n++;
      const attachment = await this.attach(c.id, pid, endpoint, `eth${n}`);
      entry.attachments.push(attachment);
      this.running.set(c.id, entry);
      await this.syncFirewall();
      this.updateNames();
      return attachment;
    });
  }

  /** `network disconnect` for a running container: its interface on that network goes. */
  disconnectRunning(containerId: string, network: string): Promise<void> {
    return this.mutex.run(async () => {
      const entry = this.running.get(containerId);
      const attachment = entry?.attachments.find((a) => a.network === network);
      if (!entry || !attachment) return;
      // Deleting the host end deletes the pair, and the container's interface with it.
      if (linkExists(attachment.hostVeth)) await ipBatchAsync([`link del ${attachment.hostVeth}`]);
      entry.attachments = entry.attachments.filter((a) => a !== attachment);
      this.releaseLease(containerId, network);
      await this.syncFirewall();
      this.updateNames();
    });
  }

  /** A stopped container: its addresses return to the pools, its ports are free. */
  release(containerId: string): Promise<void> {
    return this.mutex.run(async () => {
      const entry = this.running.get(containerId);
      this.running.delete(containerId);
      this.reservations.release(containerId);
      for (const network of new Set([
        DEFAULT_NETWORK,
        ...(entry?.attachments.map((a) => a.network) ?? []),
      ]))
        this.releaseLease(containerId, network);
      if (entry) {
        try {
          await this.syncFirewall();
        } finally {
          this.updateNames();
        }
      }
    });
  }

  private readonly ipams = new Map<string, Ipam>();

  /** One IPAM per network definition (a changed `bip` or a re-created name is another). */
  private ipamKey(config: NetworkConfig): string {
    return `${config.id} ${config.subnet} ${config.gateway}`;
  }

  /** The network (or this definition of it) is gone: its leases with it, and no late write. */
  private dropIpam(config: NetworkConfig): void {
    this.ipams.get(this.ipamKey(config))?.discard();
    this.ipams.delete(this.ipamKey(config));
  }

  private ipamFor(config: NetworkConfig): Ipam {
    const key = this.ipamKey(config);
    let ipam = this.ipams.get(key);
    if (!ipam) {
      ipam = new Ipam(this.store.ipamFile(config.name), parseSubnet(config.subnet), config.gateway);
      this.ipams.set(key, ipam);
    }
    return ipam;
  }

  private releaseLease(containerId: string, network: string): void {
    const config = this.store.bridgeNetworks().find((n) => n.name === network);
    if (!config) return;
    this.ipamFor(config).release(containerId);
  }

  /**
   * A container that kept running while no daemon did: its addresses and ports are its own
   * again. Each port is re-bound; one a program took meanwhile is reported, not fatal, and is
   * no longer published: the firewall forwards exactly the ports held (else that program's
   * traffic would go to the container, and a later -p of the port would add a second rule).
   */
  async adopt(
    c: ContainerIdentity,
    attachments: NetworkAttachment[],
    ports: PortBinding[],
  ): Promise<{ ports: PortBinding[]; warning?: string }> {
    const { held, lost } = await this.reservations.reclaim(c, ports);
    this.running.set(c.id, { name: c.name, attachments: [...attachments], ports: [...held] });
    if (lost.length === 0) return { ports: held };
    return { ports: held, warning: `no longer published (taken meanwhile): ${lost.join(", ")}` };
  }

  // ---- the whole picture ----------------------------------------------------------------

  /** Renders the firewall from the networks and running containers; applies it if it changed. */
  private async syncFirewall(force = false): Promise<void> {
    const model: FirewallModel = {
      table: this.table,
      networks: this.store
        .bridgeNetworks()
        .map((n) => ({ bridge: n.bridge, subnet: n.subnet, gateway: n.gateway })),
      ports: [...this.running.values()].flatMap((r) => {
        const primary = r.attachments.find((a) => a.ifName === "eth0") ?? r.attachments[0];
        return primary
          ? r.ports.map((binding) => ({ binding, containerIp: primary.ipAddress }))
          : [];
      }),
    };
    const ruleset = renderRuleset(model);
    if (!force && ruleset === this.appliedRuleset) return;
    // Unknown after a failure: the next sync applies whatever it renders, even this ruleset.
    this.appliedRuleset = "";
    await applyRuleset(model);
    this.appliedRuleset = ruleset;
  }

  /**
   * After the daemon starts and has adopted its running containers: bridges are back (after a
   * reboot), and what a crash left is gone: bridges of removed networks, veths of no running
   * container, leases of stopped ones. The firewall is rendered anew.
   */
  reconcile(): Promise<void> {
    return this.mutex.run(async () => {
      // A new `bip`: the default bridge is made anew, unless containers still run on it (then
      // it changes at the first daemon start without them).
      if (this.endpointsOn(DEFAULT_NETWORK).length === 0) {
        const old = this.store.forgetChangedDefault();
        if (old) this.dropIpam(old);
        if (old && linkExists(old.bridge)) await ipBatchAsync([`link del ${old.bridge}`]);
      }
      const networks = this.store.bridgeNetworks();
      const bridges = new Set(networks.map((n) => n.bridge));
      const owned = new Set(
        [...this.running.values()].flatMap((r) => r.attachments.map((a) => a.hostVeth)),
      );
      const links = ipJson<
        { ifname: string; master?: string; linkinfo?: { info_kind?: string } }[]
      >(["-d", "link", "show"]);
      const stale = links.filter(
        (l) =>
          (l.linkinfo?.info_kind === "bridge" &&
            l.ifname.startsWith(this.store.bridgePrefix) &&
            !bridges.has(l.ifname)) ||
          (l.master !== undefined &&
            bridges.has(l.master) &&
            /^v[sc]/.test(l.ifname) &&
            !owned.has(l.ifname) &&
            ![...this.prewired].some((slot) => slotVeth(slot) === l.ifname)),
      );
      for (const l of stale) {
        try {
          await ipBatchAsync([`link del ${l.ifname}`]);
        } catch {
          // gone meanwhile (a dying init's namespace takes its veth along)
        }
      }
      for (const n of networks) {
        await this.ensureBridge(n);
        const alive = new Set(
          [...this.running]
            .filter(([, r]) => r.attachments.some((a) => a.network === n.name))
            .map(([id]) => id),
        );
        const ipam = this.ipamFor(n);
        ipam.retain(alive);
        for (const [id, r] of this.running)
          for (const a of r.attachments) if (a.network === n.name) ipam.claim(id, a.ipAddress);
      }
      await this.syncFirewall(true);
      for (const n of networks) await this.serveNames(n);
      this.updateNames();
    });
  }

  close(): void {
    for (const ipam of this.ipams.values()) ipam.flush();
    this.reservations.close();
    void this.dns.close();
  }
}
