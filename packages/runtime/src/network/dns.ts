// The embedded DNS resolver for user-defined networks, as Docker's: containers on a network
// resolve each other by container name, network alias and short id; every other name is
// forwarded to the host's upstream resolvers. Wire format by `dns-packet`.
//
// API (one instance per daemon, one listener per user network):
//
//   const dns = new EmbeddedDns({
//     upstreams: readResolvConf().nameservers.map((address) => ({ address })), // port 53
//     searchDomains: readResolvConf().search, // `web.corp.example` resolves as `web`
//     timeoutMs: 2000, // per upstream, then the next one; all failed: SERVFAIL
//     maxForwards: 100, // forwarded queries in flight (a quarter per client); beyond, dropped
//     ttl: 10, // seconds, for local answers
//     log: (message) => ..., // socket errors after listen()
//   });
//   const { port } = await dns.listen({ network: "mynet", address: "172.18.0.1", port: 53,
//                                       clients: "172.18.0.0/16" });
//   dns.setRecords([{ network: "mynet", containerId, name: "web", aliases: ["api"], ipv4: "172.18.0.2" }, ...]);
//   dns.setUpstreams(upstreams, searchDomains); // the host's resolv.conf changed
//   await dns.unlisten({ address: "172.18.0.1", port: 53 }); // network rm
//   await dns.close();
//
// - listen() binds UDP and TCP (2-byte length prefix; clients retry there after a truncated
//   answer) on the same port; port 0 picks a free one, returned. `clients` (CIDR), when given,
//   drops queries from any other source, so a gateway address reachable from elsewhere is not
//   an open resolver.
// - setRecords() replaces every record of every network at once; the next query sees it (no
//   cache). The view of a query is the network of the listener it arrived on, plus every other
//   network of the container whose address on that network sent it (a container on two
//   networks resolves names on both, as in Docker; containers on other networks see nothing).
// - Names are matched case-insensitively, with or without a trailing dot, as `name` or
//   `name.<network>` (Docker splits at every dot, so names and networks may contain dots), and
//   with a search domain stripped. A name on several containers returns all their addresses,
//   rotated per query. A for local names; AAAA and other types: NOERROR without answers, so
//   resolvers go on to A. PTR of a container address: `name.<network>`, as Docker.
// - Anything else is forwarded verbatim (only the id is rewritten, to a random one upstream)
//   over the transport it came in on, to each upstream in turn; an upstream's SERVFAIL or
//   REFUSED moves on to the next, and is returned when it was the last.
// - Hostile input: anything that is not a well-formed single-question QUERY is dropped
//   (responses are never answered, so no reflection loops), TCP frames longer than a query can
//   be close the connection, idle TCP connections are closed, UDP answers never exceed what the
//   client advertised (512 bytes without EDNS: truncated, the client retries over TCP).
import { randomInt } from "node:crypto";
import dgram from "node:dgram";
import net from "node:net";
import dnsPacket from "dns-packet";
import type { Answer, DecodedPacket, Question } from "dns-packet";
import { parseIp, parseSubnet, size, type Subnet } from "./subnet.js";

/** One container's address on one network. */
export interface DnsEndpoint {
  network: string;
  /** The full container id; its first 12 characters resolve too, and it ties a container's networks together. */
  containerId: string;
  /** The container's name, without Docker's leading slash. */
  name: string;
  /** Network-scoped aliases (`--network-alias`, `network connect --alias`). */
  aliases?: readonly string[];
  ipv4: string;
}

export interface DnsUpstream {
  address: string;
  /** 53 unless given. */
  port?: number;
}

export interface DnsListen {
  /** The network whose names this listener serves. */
  network: string;
  address: string;
  /** 53 unless given; 0 picks a free port (the same for UDP and TCP). */
  port?: number;
  /** Answer only sources in this IPv4 subnet (CIDR), e.g. the network's own. */
  clients?: string;
}

export interface EmbeddedDnsOptions {
  upstreams?: readonly DnsUpstream[];
  searchDomains?: readonly string[];
  timeoutMs?: number;
  maxForwards?: number;
  ttl?: number;
  log?: (message: string) => void;
}

// A query is a header and one question (at most 255 bytes of name) plus EDNS options; 4 KiB is
// far above any real one and stops a client from making us buffer 64 KiB frames.
const MAX_QUERY_BYTES = 4096;
const MAX_TCP_CONNECTIONS = 256;
// One container (one source address) gets a share of each limit, so a hostile one cannot take
// TCP or forwarding away from the others, on its network or any other.
const MAX_TCP_PER_CLIENT = 16;
const FORWARD_SHARE = 4;
const TCP_IDLE_MS = 10_000;
const MAX_UDP_ANSWER = 4096;
const MIN_UDP_ANSWER = 512;
const SHORT_ID_LENGTH = 12;

const FLAG_QR = 0x8000;
const RCODE_SERVFAIL = 2;
const RCODE_REFUSED = 5;

type Transport = "udp" | "tcp";

/** dns-packet decodes these header fields, but its types omit them. */
type Query = DecodedPacket & { opcode: string };

interface NetworkRecords {
  /** Lower-case name, alias or short id → addresses, in record order. */
  names: Map<string, Set<string>>;
  /** Address → the endpoint that has it. */
  byIp: Map<string, DnsEndpoint>;
}

interface Listener {
  network: string;
  address: string;
  port: number;
  clients: Subnet | undefined;
  udp: dgram.Socket;
  tcp: net.Server;
}

export class EmbeddedDns {
  private upstreams: DnsUpstream[];
  private searchDomains: string[];
  private readonly timeoutMs: number;
  private readonly maxForwards: number;
  private readonly ttl: number;
  private readonly log: (message: string) => void;

  private networks = new Map<string, NetworkRecords>();
  /** Container id → its networks, for the view of a container on several networks. */
  private containerNetworks = new Map<string, string[]>();
  private readonly listeners = new Map<string, Listener>();
  private readonly connections = new Set<net.Socket>();
  private readonly connectionsByClient = new Map<string, number>();
  private readonly forwardsByClient = new Map<string, number>();
  /** Aborts every forwarded query in flight (close()). */
  private readonly inFlight = new Set<() => void>();
  private forwarding = 0;
  private rotation = 0;
  private closed = false;

  constructor(options: EmbeddedDnsOptions = {}) {
    this.upstreams = [...(options.upstreams ?? [])];
    this.searchDomains = normalizeDomains(options.searchDomains ?? []);
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.maxForwards = options.maxForwards ?? 100;
    this.ttl = options.ttl ?? 10;
    this.log = options.log ?? (() => {});
  }

  /** Serves `network`'s names on address:port over UDP and TCP; resolves to the bound port. */
  async listen(listen: DnsListen): Promise<{ address: string; port: number }> {
    if (this.closed) throw new Error("the DNS resolver is closed");
    const clients = listen.clients === undefined ? undefined : parseSubnet(listen.clients);
    const wanted = listen.port ?? 53;
    // Port 0: UDP picks a free port, TCP must then get the same one; another program may hold
    // it for TCP, so try a few.
    for (let attempt = 0; ; attempt++) {
      const udp = await bindUdp(listen.address, wanted);
      const port = udp.address().port;
      let tcp: net.Server;
      try {
        tcp = await bindTcp(listen.address, port);
      } catch (err) {
        udp.close();
        if (wanted === 0 && (err as NodeJS.ErrnoException).code === "EADDRINUSE" && attempt < 20) {
          continue;
        }
        throw bindError(listen.address, port, err);
      }
      if (this.closed) {
        udp.close();
        tcp.close();
        throw new Error("the DNS resolver is closed");
      }
      const listener: Listener = {
        network: listen.network,
        address: listen.address,
        port,
        clients,
        udp,
        tcp,
      };
      const key = listenerKey(listen.address, port);
      this.listeners.set(key, listener);
      udp.on("message", (msg, rinfo) => this.onUdp(listener, msg, rinfo));
      udp.on("error", (err) => this.log(`dns ${key} (udp): ${err.message}`));
      tcp.on("connection", (socket) => this.onTcp(listener, socket));
      tcp.on("error", (err) => this.log(`dns ${key} (tcp): ${err.message}`));
      return { address: listen.address, port };
    }
  }

  /** Stops serving address:port (the network is removed); open TCP connections to it are closed. */
  async unlisten(at: { address: string; port?: number }): Promise<void> {
    const key = listenerKey(at.address, at.port ?? 53);
    const listener = this.listeners.get(key);
    if (!listener) return;
    this.listeners.delete(key);
    await closeListener(listener, this.connections);
  }

  /** Replaces all records of all networks; the next query sees them. */
  setRecords(endpoints: readonly DnsEndpoint[]): void {
    const networks = new Map<string, NetworkRecords>();
    const containerNetworks = new Map<string, string[]>();
    for (const ep of endpoints) {
      try {
        parseIp(ep.ipv4);
      } catch {
        throw new Error(
          `DNS record of container "${ep.name}" on network "${ep.network}": "${ep.ipv4}" is not an IPv4 address`,
        );
      }
      let records = networks.get(ep.network);
      if (!records) {
        records = { names: new Map(), byIp: new Map() };
        networks.set(ep.network, records);
      }
      records.byIp.set(ep.ipv4, ep);
      const names = [ep.name, ...(ep.aliases ?? [])];
      if (ep.containerId.length >= SHORT_ID_LENGTH)
        names.push(ep.containerId.slice(0, SHORT_ID_LENGTH));
      for (const name of names) {
        const key = normalizeName(name);
        if (!key) continue;
        const ips = records.names.get(key) ?? new Set();
        records.names.set(key, ips.add(ep.ipv4));
      }
      const nets = containerNetworks.get(ep.containerId) ?? [];
      if (!nets.includes(ep.network)) nets.push(ep.network);
      containerNetworks.set(ep.containerId, nets);
    }
    this.networks = networks;
    this.containerNetworks = containerNetworks;
  }

  /** New upstreams (and search domains) for the queries that come next. */
  setUpstreams(upstreams: readonly DnsUpstream[], searchDomains?: readonly string[]): void {
    this.upstreams = [...upstreams];
    if (searchDomains) this.searchDomains = normalizeDomains(searchDomains);
  }

  /** Closes every listener and connection and abandons forwarded queries. */
  async close(): Promise<void> {
    this.closed = true;
    for (const abort of [...this.inFlight]) abort();
    const listeners = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(listeners.map((l) => closeListener(l, this.connections)));
  }

  // --- transports ---

  private onUdp(listener: Listener, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length > MAX_QUERY_BYTES || rinfo.port === 0) return;
    if (!this.allowed(listener, rinfo.address)) return;
    void this.handle(listener, rinfo.address, msg, "udp").then((reply) => {
      // The listener may have been closed while an upstream answered.
      if (!reply || this.listeners.get(listenerKey(listener.address, listener.port)) !== listener) {
        return;
      }
      listener.udp.send(reply, rinfo.port, rinfo.address, (err) => {
        if (err) this.log(`dns: answer to ${rinfo.address}:${rinfo.port}: ${err.message}`);
      });
    });
  }

  private onTcp(listener: Listener, socket: net.Socket): void {
    const client = socket.remoteAddress ?? "";
    if (
      this.connections.size >= MAX_TCP_CONNECTIONS ||
      (this.connectionsByClient.get(client) ?? 0) >= MAX_TCP_PER_CLIENT ||
      !this.allowed(listener, client)
    ) {
      socket.destroy();
      return;
    }
    this.connections.add(socket);
    count(this.connectionsByClient, client, +1);
    socket.on("close", () => {
      this.connections.delete(socket);
      count(this.connectionsByClient, client, -1);
    });
    socket.on("error", () => socket.destroy());
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    let pending: Buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (length < 12 || length > MAX_QUERY_BYTES) {
          socket.destroy();
          return;
        }
        if (pending.length < 2 + length) break;
        const msg = Buffer.from(pending.subarray(2, 2 + length));
        pending = pending.subarray(2 + length);
        void this.handle(listener, client, msg, "tcp").then((reply) => {
          if (reply && !socket.destroyed) socket.write(frame(reply));
        });
      }
    });
  }

  private allowed(listener: Listener, client: string): boolean {
    if (!listener.clients) return true;
    let ip: number;
    try {
      ip = parseIp(client.replace(/^::ffff:/, ""));
    } catch {
      return false;
    }
    return ip >= listener.clients.base && ip < listener.clients.base + size(listener.clients);
  }

  // --- queries ---

  /** The answer to send, or undefined to send nothing. Never throws. */
  private async handle(
    listener: Listener,
    client: string,
    msg: Buffer,
    transport: Transport,
  ): Promise<Buffer | undefined> {
    let query: Query;
    try {
      if (msg.length < 12 || msg.readUInt16BE(2) & FLAG_QR) return undefined;
      query = dnsPacket.decode(msg) as Query;
    } catch {
      return undefined; // malformed: dropped
    }
    const question = query.questions?.[0];
    if (query.opcode !== "QUERY" || query.questions?.length !== 1 || !question) return undefined;
    try {
      const local = this.resolveLocal(question, this.viewOf(listener, client));
      if (local) return this.localAnswer(query, question, local, transport);
      // Beyond the limits the query is dropped: the client retries.
      const share = Math.max(1, Math.floor(this.maxForwards / FORWARD_SHARE));
      if (this.forwarding >= this.maxForwards) return undefined;
      if ((this.forwardsByClient.get(client) ?? 0) >= share) return undefined;
      let reply: Buffer | undefined;
      this.forwarding++;
      count(this.forwardsByClient, client, +1);
      try {
        reply = await this.forward(msg, transport);
      } finally {
        this.forwarding--;
        count(this.forwardsByClient, client, -1);
      }
      if (!reply) return this.failure(query, question);
      reply.writeUInt16BE(query.id ?? 0, 0);
      return reply;
    } catch (err) {
      this.log(`dns: ${question.type} ${question.name}: ${(err as Error).message}`);
      return this.failure(query, question);
    }
  }

  /** The networks a query sees: the listener's, then the sending container's others. */
  private viewOf(listener: Listener, client: string): string[] {
    const self = this.networks.get(listener.network)?.byIp.get(client.replace(/^::ffff:/, ""));
    const others = self ? (this.containerNetworks.get(self.containerId) ?? []) : [];
    return [listener.network, ...others.filter((n) => n !== listener.network).sort()];
  }

  /** Local answers (possibly none: NODATA) for a local name, undefined to forward. */
  private resolveLocal(question: Question, view: string[]): Answer[] | undefined {
    if (question.class !== undefined && question.class !== "IN" && question.class !== "ANY") {
      return undefined;
    }
    const name = normalizeName(question.name);
    if (question.type === "PTR") {
      const ip = reverseIpv4(name);
      if (ip === undefined) return undefined;
      for (const network of view) {
        const ep = this.networks.get(network)?.byIp.get(ip);
        if (ep) {
          const data = `${ep.name}.${network}`;
          return [{ type: "PTR", name: question.name, ttl: this.ttl, class: "IN", data }];
        }
      }
      return undefined;
    }
    const found = this.lookupName(name, view);
    if (!found) return undefined;
    const ips = [...found];
    if (question.type !== "A" && (question.type as string) !== "ANY") return [];
    const start = this.rotation++ % ips.length;
    const rotated = [...ips.slice(start), ...ips.slice(0, start)];
    return rotated.map((ip) => ({
      type: "A",
      name: question.name,
      ttl: this.ttl,
      class: "IN",
      data: ip,
    }));
  }

  private lookupName(name: string, view: string[]): Set<string> | undefined {
    const candidates = [name];
    for (const domain of this.searchDomains) {
      if (name.endsWith(`.${domain}`)) candidates.push(name.slice(0, -domain.length - 1));
    }
    for (const candidate of candidates) {
      const found = this.lookupInView(candidate, view);
      if (found) return found;
    }
    return undefined;
  }

  /** Docker's order: the whole name on every network in view, then `prefix.<network>` at each dot. */
  private lookupInView(name: string, view: string[]): Set<string> | undefined {
    for (const network of view) {
      const ips = this.networks.get(network)?.names.get(name);
      if (ips) return ips;
    }
    for (let dot = name.lastIndexOf("."); dot > 0; dot = name.lastIndexOf(".", dot - 1)) {
      const suffix = name.slice(dot + 1);
      const network = view.find((n) => n.toLowerCase() === suffix);
      const ips = network ? this.networks.get(network)?.names.get(name.slice(0, dot)) : undefined;
      if (ips) return ips;
    }
    return undefined;
  }

  private localAnswer(
    query: Query,
    question: Question,
    answers: Answer[],
    transport: Transport,
  ): Buffer {
    const opt = query.additionals?.find((a) => a.type === "OPT");
    let limit = 65535;
    if (transport === "udp") {
      const advertised = opt && "udpPayloadSize" in opt ? opt.udpPayloadSize : MIN_UDP_ANSWER;
      limit = Math.min(MAX_UDP_ANSWER, Math.max(MIN_UDP_ANSWER, advertised));
    }
    const additionals: Answer[] = opt
      ? [
          {
            type: "OPT",
            name: ".",
            udpPayloadSize: MAX_UDP_ANSWER,
            extendedRcode: 0,
            ednsVersion: 0,
            flags: 0,
            flag_do: false,
            options: [],
          },
        ]
      : [];
    const flags =
      dnsPacket.AUTHORITATIVE_ANSWER |
      dnsPacket.RECURSION_AVAILABLE |
      (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0);
    const packet = {
      type: "response" as const,
      id: query.id ?? 0,
      flags,
      questions: [question],
      answers,
      additionals,
    };
    if (dnsPacket.encodingLength(packet) <= limit) return dnsPacket.encode(packet);
    // Too big for this client over UDP: say so, it retries over TCP.
    return dnsPacket.encode({
      ...packet,
      flags: flags | dnsPacket.TRUNCATED_RESPONSE,
      answers: [],
    });
  }

  private failure(query: Query, question: Question): Buffer {
    return dnsPacket.encode({
      type: "response",
      id: query.id ?? 0,
      flags:
        RCODE_SERVFAIL |
        dnsPacket.RECURSION_AVAILABLE |
        (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0),
      questions: [question],
    });
  }

  /** The first usable upstream answer (id still the upstream one), or undefined. */
  private async forward(msg: Buffer, transport: Transport): Promise<Buffer | undefined> {
    const upstreams = this.upstreams.filter(
      (u) => !this.listeners.has(listenerKey(u.address, u.port ?? 53)), // never forward to ourselves
    );
    let last: Buffer | undefined;
    for (const upstream of upstreams) {
      if (this.closed) return undefined;
      const id = randomInt(0, 65536);
      const out = Buffer.from(msg);
      out.writeUInt16BE(id, 0);
      try {
        const reply = await this.exchange(out, id, upstream, transport);
        last = reply;
        const rcode = reply.readUInt8(3) & 0x0f;
        if (rcode !== RCODE_SERVFAIL && rcode !== RCODE_REFUSED) return reply;
      } catch (err) {
        this.log(
          `dns: upstream ${upstream.address}:${upstream.port ?? 53} (${transport}): ${(err as Error).message}`,
        );
      }
    }
    return last;
  }

  /** One query to one upstream; rejects on timeout, on an error, or on close(). */
  private exchange(
    out: Buffer,
    id: number,
    upstream: DnsUpstream,
    transport: Transport,
  ): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const port = upstream.port ?? 53;
      let release = (): void => {};
      let done = false;
      const finish = (err: Error | undefined, reply?: Buffer): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.inFlight.delete(abort);
        release();
        if (reply) resolve(reply);
        else reject(err ?? new Error("no answer"));
      };
      const abort = (): void => finish(new Error("resolver closed"));
      // finish() runs only after this line: from timers, socket events and abort().
      const timer = setTimeout(
        () => finish(new Error(`no answer in ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      this.inFlight.add(abort);
      const isReply = (reply: Buffer): boolean =>
        reply.length >= 12 &&
        reply.readUInt16BE(0) === id &&
        (reply.readUInt16BE(2) & FLAG_QR) !== 0;

      if (transport === "udp") {
        // A fresh socket per query: a random source port as well as a random id against
        // spoofed answers, and connect() makes the kernel drop datagrams from anyone else.
        const socket = dgram.createSocket(net.isIPv6(upstream.address) ? "udp6" : "udp4");
        release = () => socket.close();
        socket.on("error", (err) => finish(err));
        socket.on("message", (reply) => {
          if (isReply(reply)) finish(undefined, reply);
        });
        socket.connect(port, upstream.address, () => socket.send(out));
        return;
      }
      const socket = net.connect({ host: upstream.address, port });
      release = () => socket.destroy();
      let pending: Buffer = Buffer.alloc(0);
      socket.on("error", (err) => finish(err));
      socket.on("close", () => finish(new Error("connection closed without an answer")));
      socket.on("connect", () => socket.write(frame(out)));
      socket.on("data", (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        if (pending.length < 2) return;
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) return;
        const reply = Buffer.from(pending.subarray(2, 2 + length));
        if (isReply(reply)) finish(undefined, reply);
        else finish(new Error("answer with a wrong id"));
      });
    });
  }
}

function listenerKey(address: string, port: number): string {
  return `${address}|${port}`;
}

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

function normalizeDomains(domains: readonly string[]): string[] {
  return domains.map(normalizeName).filter((d) => d.length > 0);
}

/** `4.3.2.1.in-addr.arpa` → `1.2.3.4`; undefined for anything else. */
function reverseIpv4(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  if (!m) return undefined;
  const ip = [m[4], m[3], m[2], m[1]].map(Number).join(".");
  try {
    parseIp(ip);
  } catch {
    return undefined;
  }
  return ip;
}

function frame(msg: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(msg.length);
  return Buffer.concat([length, msg]);
}

function bindUdp(address: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(address) ? "udp6" : "udp4");
    socket.once("error", (err) => {
      socket.close();
      reject(bindError(address, port, err));
    });
    socket.bind({ address, port }, () => {
      socket.removeAllListeners("error");
      resolve(socket);
    });
  });
}

function bindTcp(address: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ host: address, port }, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

function bindError(address: string, port: number, err: unknown): Error {
  if (err instanceof Error && err.message.startsWith("cannot serve DNS")) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const hint =
    code === "EADDRINUSE"
      ? " (another program holds this port; a DNS server on 0.0.0.0:53 blocks every address)"
      : code === "EADDRNOTAVAIL"
        ? " (no interface of this host has this address: is the bridge up with its gateway address?)"
        : "";
  return new Error(`cannot serve DNS on ${address}:${port}: ${(err as Error).message}${hint}`);
}

/** Adds `delta` to a per-client counter, dropping it at zero (the map holds active clients only). */
function count(counts: Map<string, number>, client: string, delta: number): void {
  const n = (counts.get(client) ?? 0) + delta;
  if (n > 0) counts.set(client, n);
  else counts.delete(client);
}

async function closeListener(listener: Listener, connections: Set<net.Socket>): Promise<void> {
  listener.udp.close();
  for (const socket of connections) {
    if (socket.localAddress === listener.address && socket.localPort === listener.port) {
      socket.destroy();
    }
  }
  await new Promise<void>((resolve) => listener.tcp.close(() => resolve()));
}
