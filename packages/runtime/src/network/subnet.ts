// IPv4 subnets as numbers: parsing, containment, overlap, and choosing a subnet for a bridge
// that collides with none of the host's routes.

export interface Subnet {
  /** Network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export function parseIp(text: string): number {
  const parts = text.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^[0-9]{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`invalid IPv4 address "${text}"`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

export function parseSubnet(text: string): Subnet {
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
  const prefix = Number(m?.[2]);
  if (!m || prefix < 8 || prefix > 30) {
    throw new Error(
      `invalid subnet "${text}": use CIDR notation with a prefix from /8 to /30, e.g. 172.18.0.0/16`,
    );
  }
  const size = 2 ** (32 - prefix);
  const base = parseIp(m[1] as string);
  if (base % size !== 0)
    throw new Error(
      `invalid subnet "${text}": host bits are set (did you mean ${formatIp(base - (base % size))}/${prefix}?)`,
    );
  return { base, prefix };
}

export function formatSubnet(s: Subnet): string {
  return `${formatIp(s.base)}/${s.prefix}`;
}

export function size(s: Subnet): number {
  return 2 ** (32 - s.prefix);
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/** The gateway (the bridge's own address) is the first host address, as Docker's. */
export function gatewayOf(s: Subnet): number {
  return s.base + 1;
}

/** Routes' destinations as subnets ("default" and host routes are skipped). */
export function routeSubnets(routes: readonly { dst: string }[]): Subnet[] {
  const out: Subnet[] = [];
  for (const r of routes) {
    if (r.dst === "default") continue;
    const [ip, prefix = "32"] = r.dst.split("/");
    try {
      const p = Number(prefix);
      const n = parseIp(ip as string);
      const sz = 2 ** (32 - p);
      out.push({ base: n - (n % sz), prefix: p });
    } catch {
      // not IPv4
    }
  }
  return out;
}

/** Docker's default pool order: 172.17-31.0.0/16, then 192.168.0-240.0/20. */
export function candidateSubnets(): Subnet[] {
  const out: Subnet[] = [];
  for (let b = 17; b <= 31; b++) out.push(parseSubnet(`172.${b}.0.0/16`));
  for (let c = 0; c < 256; c += 16) out.push(parseSubnet(`192.168.${c}.0/20`));
  return out;
}

export function pickSubnet(taken: readonly Subnet[]): Subnet {
  const free = candidateSubnets().find((c) => !taken.some((t) => overlaps(c, t)));
  if (!free)
    throw new Error(
      "no free subnet for a bridge: every candidate overlaps a host route; pass --subnet",
    );
  return free;
}
