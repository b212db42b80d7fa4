// Who really called, behind a reverse proxy: X-Forwarded-For / -Proto are believed only when the
// peer is a proxy listed in CORRAL_TRUSTED_PROXIES (IPs or CIDRs, comma-separated); from anyone
// else they are ignored, so a client cannot spoof its address (rate limits, audit) or https.
import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";
import type { TLSSocket } from "node:tls";

/** "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
function plainIp(address: string): string {
  const a = address.trim();
  return a.startsWith("::ffff:") && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  /** Throws a one-line error naming the entry that is neither an IP nor a CIDR. */
  constructor(spec: string | undefined) {
    const entries = (spec ?? "")
      .split(",")
      .map((e) => e.trim())
      .filter(Boolean);
    for (const entry of entries) {
      const [ip = "", bits, extra] = entry.split("/");
      const family = isIP(ip);
      const prefix = Number(bits);
      const maxBits = family === 6 ? 128 : 32;
      if (
        !family ||
        extra !== undefined ||
        (bits !== undefined && (!/^\d+$/.test(bits) || prefix > maxBits))
      ) {
        throw new Error(
          `CORRAL_TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR (e.g. 10.0.0.5,10.1.0.0/16)`,
        );
      }
      const type = family === 6 ? "ipv6" : "ipv4";
      if (bits === undefined) this.list.addAddress(ip, type);
      else this.list.addSubnet(ip, prefix, type);
    }
    this.empty = entries.length === 0;
  }

  trusts(address: string): boolean {
    if (this.empty || !address) return false;
    const ip = plainIp(address);
    const family = isIP(ip);
    return family !== 0 && this.list.check(ip, family === 6 ? "ipv6" : "ipv4");
  }

  /**
   * The client's address: the peer, or when the peer is a trusted proxy, the right-most
   * X-Forwarded-For entry that is not itself a trusted proxy (entries left of it are the
   * client's own claims).
   */
  clientAddress(req: IncomingMessage): string {
    const peer = plainIp(req.socket.remoteAddress ?? "");
    if (!this.trusts(peer)) return peer;
    const header = req.headers["x-forwarded-for"];
    const hops = (Array.isArray(header) ? header.join(",") : (header ?? ""))
      .split(",")
      .map((h) => plainIp(h))
      .filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] as string;
      if (!isIP(hop)) return peer; // garbage from the client: fall back to what we know
      if (!this.trusts(hop)) return hop;
    }
    return hops[0] ?? peer;
  }

  /** https directly (a TLS socket) or as said by a trusted proxy's X-Forwarded-Proto. */
  isHttps(req: IncomingMessage): boolean {
    if ((req.socket as Partial<TLSSocket>).encrypted) return true;
    if (!this.trusts(req.socket.remoteAddress ?? "")) return false;
    const proto = req.headers["x-forwarded-proto"];
    const first = (Array.isArray(proto) ? proto[0] : proto)?.split(",")[0]?.trim().toLowerCase();
    return first === "https";
  }
}

let fromEnv: { spec: string | undefined; proxies: TrustedProxies } | undefined;

/** CORRAL_TRUSTED_PROXIES, parsed once (again if the variable changes, e.g. in tests). */
export function trustedProxies(env: NodeJS.ProcessEnv = process.env): TrustedProxies {
  const spec = env.CORRAL_TRUSTED_PROXIES;
  if (!fromEnv || fromEnv.spec !== spec) fromEnv = { spec, proxies: new TrustedProxies(spec) };
  return fromEnv.proxies;
}
