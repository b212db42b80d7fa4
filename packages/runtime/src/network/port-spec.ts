// Docker's port syntax: `-p` and `--expose` specs, and how `ps` shows a published port. Pure
// and free of heavy imports: the CLI parses with it on every `run`.
import { isIPv4 } from "node:net";
import { UserError } from "../util/errors.js";

/** A published port as asked for (`-p`). */
export interface PortRequest {
  /** "" for every IPv4 address of the host. */
  hostIp: string;
  /** 0: a free port chosen when the container starts. */
  hostPort: number;
  containerPort: number;
  protocol: "tcp" | "udp";
}

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
  if (hostIp !== "" && !isIPv4(hostIp))
    throw new UserError(`invalid IP address "${hostIp}" in -p "${spec}": give an IPv4 address`);
  const inside = portRange(containerPorts, spec);
  const outside = hostPorts === "" ? [] : portRange(hostPorts, spec);
  // One host port for several container ports would publish it twice (as Docker, refused).
  if (outside.length > 0 && outside.length !== inside.length)
    throw new UserError(
      `invalid -p "${spec}": host and container port ranges must be the same size`,
    );
  return inside.map((containerPort, i) => ({
    hostIp,
    hostPort: outside.length === 0 ? 0 : (outside[i] as number),
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
