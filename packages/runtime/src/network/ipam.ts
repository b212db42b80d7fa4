// Address management for one network (round-robin, as Docker's), in memory, with a copy on disk written just after each
// change (off the start path) for the next daemon. The copy is a cache: the durable truth is
// each running container's record (its addresses are saved with its state), from which the
// daemon restores the leases at start (claim/retain), so a lost or torn copy costs nothing.
import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomicSync } from "../util/atomic-file.js";
import { formatIp, gatewayOf, parseIp, size, type Subnet } from "./subnet.js";

interface IpamFile {
  /** containerId -> address */
  leases: Record<string, string>;
  /** The address handed out last: the next search starts after it (round-robin). */
  last?: string;
}

export class Ipam {
  constructor(
    private readonly file: string,
    private readonly subnet: Subnet,
    /** The bridge's own address, never handed out (the subnet's first by default). */
    private readonly gateway: string = formatIp(gatewayOf(subnet)),
  ) {}

  /** Read once: the daemon is the file's only writer (one daemon per state root). */
  private cached: IpamFile | undefined;

  private read(): IpamFile {
    if (!this.cached) {
      this.cached = existsSync(this.file) ? this.parse() : { leases: {} };
    }
    return this.cached;
  }

  /** The file as far as it holds leases in this subnet; torn or foreign content counts as none. */
  private parse(): IpamFile {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(this.file, "utf8"));
    } catch (err) {
      return this.rebuilt((err as Error).message);
    }
    const leases = (data as { leases?: unknown } | null)?.leases;
    if (typeof leases !== "object" || leases === null || Array.isArray(leases))
      return this.rebuilt("it holds no leases object");
    const file: IpamFile = { leases: {} };
    for (const [id, address] of Object.entries(leases))
      if (this.usable(address)) file.leases[id] = address;
    const last = (data as { last?: unknown }).last;
    if (this.usable(last)) file.last = last;
    return file;
  }

  /** The running containers' records restore the leases (claim) when the daemon starts. */
  private rebuilt(why: string): IpamFile {
    process.stderr.write(
      `corral-rtd: ${this.file} is unreadable (${why}): rebuilding it from the containers' records\n`,
    );
    return { leases: {} };
  }

  private usable(address: unknown): address is string {
    if (typeof address !== "string") return false;
    try {
      const n = parseIp(address);
      return n > this.subnet.base && n < this.subnet.base + size(this.subnet) - 1;
    } catch {
      return false;
    }
  }

  private writeScheduled = false;

  private persist(): void {
    if (this.writeScheduled) return;
    this.writeScheduled = true;
    setImmediate(() => this.flush());
  }

  private discarded = false;

  /** Writes the copy on disk now (at daemon shutdown, or when a test reads the file). */
  flush(): void {
    this.writeScheduled = false;
    if (this.discarded) return;
    try {
      writeFileAtomicSync(this.file, JSON.stringify(this.read()), 0o600, { durable: false });
    } catch (err) {
      // Best effort: the records are the truth (see the top of this file).
      process.stderr.write(`corral-rtd: could not save ${this.file}: ${(err as Error).message}\n`);
    }
  }

  /** The network is gone: no write may bring its file back. */
  discard(): void {
    this.discarded = true;
  }

  /**
   * The container's address: its existing lease, or the next free one after the address handed
   * out last, wrapping (round-robin, as Docker's IPAM): an address just freed is reused last, so
   * neighbours' ARP and conntrack entries for it have expired by then.
   */
  allocate(containerId: string): string {
    const data = this.read();
    const existing = data.leases[containerId];
    if (existing) return existing;
    const used = new Set([...Object.values(data.leases), this.gateway].map(parseIp));
    const first = this.subnet.base + 1;
    const hosts = size(this.subnet) - 2; // without network and broadcast addresses
    const after = data.last === undefined ? first - 1 : parseIp(data.last);
    for (let i = 1; i <= hosts; i++) {
      const n = first + ((after - first + i) % hosts);
      if (used.has(n)) continue;
      data.leases[containerId] = formatIp(n);
      data.last = formatIp(n);
      this.persist();
      return formatIp(n);
    }
    throw new Error(
      `no free address in ${formatIp(this.subnet.base)}/${this.subnet.prefix}: remove containers or use a larger subnet`,
    );
  }

  release(containerId: string): void {
    const data = this.read();
    if (!(containerId in data.leases)) return;
    delete data.leases[containerId];
    this.persist();
  }

  /** Drops leases of containers that no longer exist (e.g. after a crash mid-remove). */
  retain(alive: ReadonlySet<string>): void {
    const data = this.read();
    const kept = Object.fromEntries(Object.entries(data.leases).filter(([id]) => alive.has(id)));
    if (Object.keys(kept).length !== Object.keys(data.leases).length) {
      this.cached = { ...data, leases: kept };
      this.persist();
    }
  }

  /** Restores a running container's lease (a crash may have lost the write). */
  claim(containerId: string, address: string): void {
    const data = this.read();
    if (data.leases[containerId] === address) return;
    data.leases[containerId] = address;
    this.persist();
  }

  leases(): Record<string, string> {
    return this.read().leases;
  }
}
