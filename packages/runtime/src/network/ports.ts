// Published ports: Docker's `-p` syntax, and the host ports a running container holds.
//
// Traffic reaches a container through nftables DNAT (see nftables.ts), not through a proxy
// process, so nothing listens on a published port by itself. The daemon still binds every
// published port while the container runs, as docker-proxy does: a port another program uses
// is refused before the container starts, and no other program can take it afterwards.
// Connections that would reach these held sockets never do (DNAT rewrites them first).
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Server } from "node:net";
import { z } from "zod";
import { UserError } from "../util/errors.js";

export const portRequestSchema = z.object({
  /** "" for every IPv4 address of the host. */
  hostIp: z
    .string()
    .regex(/^$|^[0-9]{1,3}(\.[0-9]{1,3}){3}$/, "a host IP is an IPv4 address")
    .default(""),
  /** 0: a free port chosen when the container starts. */
  hostPort: z.number().int().min(0).max(65535).default(0),
  containerPort: z.number().int().min(1).max(65535),
  protocol: z.enum(["tcp", "udp"]).default("tcp"),
});
export type PortRequest = z.infer<typeof portRequestSchema>;

/** A published port as it is while the container runs: the host port is known. */
export interface PortBinding {
  hostIp: string;
  hostPort: number;
  containerPort: number;
  protocol: "tcp" | "udp";
}

function port(text: string, spec: string): number {
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || n < 1 || n > 65535)
    throw new UserError(`invalid port "${text}" in "${spec}": ports are 1 to 65535`);
  return n;
}

function portRange(text: string, spec: string): number[] {
  const [from = "", to] = text.split("-");
  const first = port(from, spec);
  const last = to === undefined ? first : port(to, spec);
  if (last < first) throw new UserError(`invalid port range "${text}" in "${spec}"`);
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/**
 * `-p` as Docker reads it: `[hostIp:][hostPort:]containerPort[/proto]`, where ports may be
 * ranges (`8000-8001:80-81`) and an empty host port (`127.0.0.1::80`) means any free one.
 */
export function parsePublish(spec: string): PortRequest[] {
  const usage = `invalid -p "${spec}": use [ip:][hostPort:]containerPort[/tcp|udp], e.g. 8080:80`;
  const [address = "", proto = "tcp", ...extra] = spec.split("/");
  if (extra.length > 0 || (proto !== "tcp" && proto !== "udp")) throw new UserError(usage);
  const parts = address.split(":");
  if (parts.length > 3 || parts.some((p, i) => p === "" && i === parts.length - 1))
    throw new UserError(usage);
  const [hostIp, hostPorts, containerPorts] =
    parts.length === 3
      ? (parts as [string, string, string])
      : parts.length === 2
        ? ["", parts[0] as string, parts[1] as string]
        : ["", "", parts[0] as string];
  if (hostIp !== "" && !/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(hostIp))
    throw new UserError(`invalid host IP "${hostIp}" in "${spec}": give an IPv4 address`);
  const inside = portRange(containerPorts, spec);
  const outside = hostPorts === "" ? [] : portRange(hostPorts, spec);
  if (outside.length > 0 && outside.length !== inside.length && outside.length !== 1)
    throw new UserError(`invalid -p "${spec}": host and container ranges differ in length`);
  return inside.map((containerPort, i) => ({
    hostIp,
    hostPort: outside.length === 0 ? 0 : (outside[outside.length === 1 ? 0 : i] as number),
    containerPort,
    protocol: proto,
  }));
}

/** `--expose`/image ExposedPorts keys: "80", "80/tcp", "53/udp", "8000-8002". */
export function parseExposed(spec: string): { port: number; protocol: "tcp" | "udp" }[] {
  const [ports = "", proto = "tcp"] = spec.split("/");
  if (proto !== "tcp" && proto !== "udp")
    throw new UserError(`invalid exposed port "${spec}": use PORT[/tcp|udp]`);
  return portRange(ports, spec).map((p) => ({ port: p, protocol: proto }));
}

/** Docker's `ps` PORTS column: `0.0.0.0:8080->80/tcp`. */
export function formatBinding(b: PortBinding): string {
  return `${b.hostIp || "0.0.0.0"}:${b.hostPort}->${b.containerPort}/${b.protocol}`;
}

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

/** The host ports held for running containers. */
export class PortReservations {
  private readonly held = new Map<string, Held[]>();

  /**
   * Binds every requested port for `owner` (a container id) and returns them with the ports
   * the kernel chose for hostPort 0; on any failure, holds nothing and throws a one-line error.
   */
  async reserve(owner: string, requests: readonly PortRequest[]): Promise<PortBinding[]> {
    this.release(owner);
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
          if (code === "EADDRINUSE")
            throw new UserError(
              `Bind for ${host}:${r.hostPort} failed: port is already allocated (choose another host port with -p)`,
              409,
            );
          if (code === "EADDRNOTAVAIL")
            throw new UserError(`cannot publish on ${host}: it is not an address of this host`);
          throw err;
        }
      }
    } catch (err) {
      for (const h of held) h.close();
      throw err;
    }
    this.held.set(owner, held);
    return bindings;
  }

  release(owner: string): void {
    for (const h of this.held.get(owner) ?? []) h.close();
    this.held.delete(owner);
  }

  close(): void {
    for (const owner of [...this.held.keys()]) this.release(owner);
  }
}
