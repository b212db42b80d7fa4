// The host ports a running container holds (Docker's syntax for them: port-spec.ts).
//
// Traffic reaches a container through nftables DNAT (see nftables.ts), not through a proxy
// process, so nothing listens on a published port by itself. The daemon still binds every
// published port while the container runs, as docker-proxy does: a port another program uses
// is refused before the container starts, and no other program can take it afterwards.
// Connections that would reach these held sockets never do (DNAT rewrites them first).
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server } from "node:net";
import { UserError } from "../util/errors.js";
import { describePortHolder } from "./port-holder.js";
import type { PortBinding, PortRequest } from "./port-spec.js";

type Held = { close(): void };

function holdTcp(host: string, port: number): Promise<{ port: number; held: Held }> {
  return new Promise((resolve, reject) => {
    const server: Server = createServer((socket) => socket.destroy());
    server.once("error", reject);
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      resolve({
        port: typeof address === "object" && address ? address.port : port,
        held: { close: () => server.close() },
      });
    });
  });
}

function holdUdp(host: string, port: number): Promise<{ port: number; held: Held }> {
  return new Promise((resolve, reject) => {
    const socket: UdpSocket = createSocket("udp4");
    socket.once("error", reject);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.on("message", () => undefined);
      resolve({ port: socket.address().port, held: { close: () => socket.close() } });
    });
  });
}

/** The container a port is held for: its id keys the reservation, its name is shown. */
export interface PortOwner {
  id: string;
  name: string;
}

/** The host ports held for running containers. */
export class PortReservations {
  private readonly held = new Map<string, Held[]>();
  /** "port/protocol" -> the container holding it, to name it when another asks for it. */
  private readonly owners = new Map<string, PortOwner>();

  /**
   * Binds every requested port for `owner` and returns them with the ports the kernel chose
   * for hostPort 0; on any failure, holds nothing and throws a one-line error (409 for a port
   * already taken: the user's to resolve by choosing another one, as a name in use).
   */
  async reserve(owner: PortOwner, requests: readonly PortRequest[]): Promise<PortBinding[]> {
    this.release(owner.id);
    const held: Held[] = [];
    const bindings: PortBinding[] = [];
    try {
      for (const r of requests) {
        const host = r.hostIp || "0.0.0.0";
        try {
          const hold = r.protocol === "tcp" ? holdTcp : holdUdp;
          const got = await hold(host, r.hostPort);
          held.push(got.held);
          bindings.push({ ...r, hostPort: got.port });
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === "EADDRINUSE") {
            const own = this.owners.get(`${r.hostPort}/${r.protocol}`);
            const holder = own
              ? `container ${own.name} (${own.id.slice(0, 12)}) on this host`
              : describePortHolder(r.hostPort, r.protocol);
            // Docker's words first (scripts match them), then who holds it and what to do, in
            // terms that fit the CLI's -p and the web form's host port field alike.
            throw new UserError(
              `Bind for ${host}:${r.hostPort} failed: port is already allocated${holder ? ` by ${holder}` : ""}: choose another host port`,
              409,
            );
          }
          if (code === "EADDRNOTAVAIL")
            throw new UserError(`cannot publish on ${host}: it is not an address of this host`);
          throw err;
        }
      }
    } catch (err) {
      for (const h of held) h.close();
      throw err;
    }
    this.held.set(owner.id, held);
    const who = { id: owner.id, name: owner.name }; // not the caller's whole record
    for (const b of bindings) this.owners.set(`${b.hostPort}/${b.protocol}`, who);
    return bindings;
  }

  /**
   * Binds each of `bindings` again for `owner` (a container that kept running while no daemon
   * did), one by one: a port another program took meanwhile is lost, the others held.
   */
  async reclaim(
    owner: PortOwner,
    bindings: readonly PortBinding[],
  ): Promise<{ held: PortBinding[]; lost: string[] }> {
    this.release(owner.id);
    const held: Held[] = [];
    const kept: PortBinding[] = [];
    const lost: string[] = [];
    for (const b of bindings) {
      const host = b.hostIp || "0.0.0.0";
      try {
        const hold = b.protocol === "tcp" ? holdTcp : holdUdp;
        held.push((await hold(host, b.hostPort)).held);
        kept.push(b);
      } catch (err) {
        lost.push(`${host}:${b.hostPort}/${b.protocol} (${(err as Error).message})`);
      }
    }
    this.held.set(owner.id, held);
    const who = { id: owner.id, name: owner.name };
    for (const b of kept) this.owners.set(`${b.hostPort}/${b.protocol}`, who);
    return { held: kept, lost };
  }

  /** Closes what container `id` holds. */
  release(id: string): void {
    for (const h of this.held.get(id) ?? []) h.close();
    this.held.delete(id);
    for (const [key, o] of this.owners) if (o.id === id) this.owners.delete(key);
  }

  close(): void {
    for (const owner of [...this.held.keys()]) this.release(owner);
  }
}
