// A minimal rtnetlink client, so that a container's init (already inside the container's network
// namespace) configures its eth0 with a few system calls instead of spawning `nsenter ip`
// (~20 ms). Written by hand: npm's one rtnetlink library, `netlink` (0.3.0, prebuilt N-API
// addon), says "early stage; API compatibility is not maintained", is asynchronous only and would
// be a second native door beside koffi; the few messages needed are small fixed layouts
// (<linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h>, <linux/if_addr.h>), checked byte
// for byte against what iproute2 sends, in the tests.
//
// Encoders and decoders are pure; the operations are synchronous (the init does one thing at a
// time) and each request asks for an ack, so every request ends in exactly one NLMSG_ERROR
// that says whether it worked.
import { closeSync } from "node:fs";
import {
  AF_NETLINK,
  MSG_TRUNC,
  NETLINK_CAP_ACK,
  NETLINK_EXT_ACK,
  NETLINK_ROUTE,
  SOCK_CLOEXEC,
  SOCK_RAW,
  SOL_NETLINK,
} from "../syscall/constants.js";
import { errnoName } from "../syscall/errors.js";
import { bindNetlink, recv, send, setsockoptInt, socket, strerror } from "../syscall/libc.js";
import { formatIp, parseIp } from "./subnet.js";

// <linux/netlink.h>
const NLMSG_HDRLEN = 16;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
/** In an NLMSG_ERROR: extended-ack attributes follow the echoed header. */
const NLM_F_ACK_TLVS = 0x200;
/** In an NLMSG_ERROR: the request's payload is not echoed. */
const NLM_F_CAPPED = 0x100;
const NLMSGERR_ATTR_MSG = 1;

// <linux/rtnetlink.h>
const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;
const RTM_NAMES: Record<number, string> = {
  [RTM_NEWLINK]: "RTM_NEWLINK",
  [RTM_DELLINK]: "RTM_DELLINK",
  [RTM_GETLINK]: "RTM_GETLINK",
  [RTM_NEWADDR]: "RTM_NEWADDR",
  [RTM_NEWROUTE]: "RTM_NEWROUTE",
};
const RT_TABLE_MAIN = 254;
const RTPROT_BOOT = 3;
const RT_SCOPE_UNIVERSE = 0;
const RTN_UNICAST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_METRICS = 8;
/** In RTA_METRICS: the path MTU of the route. */
const RTAX_MTU = 2;

// <linux/if_link.h>, <linux/if_addr.h>, <linux/if.h>
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_EXT_MASK = 29;
const RTEXT_FILTER_SKIP_STATS = 1 << 3;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_BROADCAST = 4;
const IFF_UP = 0x1;
const AF_UNSPEC = 0;
const AF_INET = 2;
const IFNAMSIZ = 16;

// ---- input checks: one-line errors that say what was wrong ----

/** An IPv4 address in network byte order. */
export function ipv4Bytes(ip: string): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(parseIp(ip));
  return b;
}

export function macBytes(mac: string): Buffer {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac)) {
    throw new Error(
      `invalid MAC address "${mac}" (expected six hex pairs, e.g. 02:42:0a:58:00:05)`,
    );
  }
  return Buffer.from(mac.replace(/:/g, ""), "hex");
}

function checkIfName(name: string): void {
  const len = Buffer.byteLength(name);
  if (len === 0 || len >= IFNAMSIZ || /[\s/:\0]/.test(name)) {
    throw new Error(
      `invalid interface name "${name}" (1-${IFNAMSIZ - 1} bytes, no spaces, "/" or ":")`,
    );
  }
}

function checkPrefixLen(prefixLen: number): void {
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > 32) {
    throw new Error(`invalid IPv4 prefix length ${prefixLen} (expected 0-32)`);
  }
}

/** The broadcast address of `ip`/`prefixLen` (all host bits set). */
export function broadcastOf(ip: string, prefixLen: number): string {
  checkPrefixLen(prefixLen);
  const hostBits = 2 ** (32 - prefixLen);
  const n = parseIp(ip);
  return formatIp(n - (n % hostBits) + hostBits - 1);
}

// ---- encoders ----

/** One attribute (struct rtattr + value), padded to 4 bytes. */
export function rtattr(type: number, value: Buffer): Buffer {
  const len = 4 + value.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  value.copy(out, 4);
  return out;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

function cstring(s: string): Buffer {
  return Buffer.from(s + "\0");
}

/** A whole message: struct nlmsghdr (port 0: to the kernel) and its payload. */
export function nlmsg(type: number, flags: number, seq: number, payload: Buffer): Buffer {
  const hdr = Buffer.alloc(NLMSG_HDRLEN);
  hdr.writeUInt32LE(NLMSG_HDRLEN + payload.length, 0);
  hdr.writeUInt16LE(type, 4);
  hdr.writeUInt16LE(flags, 6);
  hdr.writeUInt32LE(seq >>> 0, 8);
  hdr.writeUInt32LE(0, 12);
  return Buffer.concat([hdr, payload]);
}

/** struct ifinfomsg. */
function ifinfomsg(index: number, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(AF_UNSPEC, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

/** struct ifaddrmsg for IPv4, scope universe. */
function ifaddrmsg(index: number, prefixLen: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(AF_INET, 0);
  b.writeUInt8(prefixLen, 1);
  b.writeUInt8(RT_SCOPE_UNIVERSE, 3);
  b.writeUInt32LE(index, 4);
  return b;
}

/** struct rtmsg for an IPv4 unicast route in the main table, as `ip route add` makes. */
function rtmsg(dstLen: number): Buffer {
  return Buffer.from([
    AF_INET,
    dstLen,
    0,
    0,
    RT_TABLE_MAIN,
    RTPROT_BOOT,
    RT_SCOPE_UNIVERSE,
    RTN_UNICAST,
    0,
    0,
    0,
    0,
  ]);
}

/** A request before its sequence number is known. */
export interface Request {
  type: number;
  flags: number;
  body: Buffer;
  /** What the request is about, for errors ("eth0 10.88.0.5/16"). */
  subject: string;
}

export function getLinkRequest(name: string): Request {
  checkIfName(name);
  return {
    type: RTM_GETLINK,
    flags: NLM_F_REQUEST | NLM_F_ACK,
    // The reply without its statistics: smaller, and all that is wanted is the index.
    body: Buffer.concat([
      ifinfomsg(0),
      rtattr(IFLA_EXT_MASK, u32(RTEXT_FILTER_SKIP_STATS)),
      rtattr(IFLA_IFNAME, cstring(name)),
    ]),
    subject: name,
  };
}

/** `ip link del NAME`, by name (the kernel looks it up): a veth takes its peer with it. */
export function deleteLinkRequest(name: string): Request {
  checkIfName(name);
  return {
    type: RTM_DELLINK,
    flags: NLM_F_REQUEST | NLM_F_ACK,
    body: Buffer.concat([ifinfomsg(0), rtattr(IFLA_IFNAME, cstring(name))]),
    subject: name,
  };
}

export interface LinkSettings {
  /** A new name (the link is renamed before it is brought up). */
  name?: string;
  mac?: string;
  mtu?: number;
  /** true brings the link up, false down; unset leaves it as it is. */
  up?: boolean;
}

/**
 * `ip link set`: one RTM_NEWLINK, which the kernel applies in the order address, MTU, name,
 * flags, so a link is renamed while still down and comes up last. `link` is an index, or a name
 * (looked up by the kernel, but then it cannot be renamed in the same message).
 */
export function setLinkRequest(
  link: number | string,
  settings: LinkSettings,
  label?: string,
): Request {
  const attrs: Buffer[] = [];
  const words: string[] = [];
  if (settings.mac !== undefined) {
    attrs.push(rtattr(IFLA_ADDRESS, macBytes(settings.mac)));
    words.push(`address ${settings.mac}`);
  }
  if (settings.mtu !== undefined) {
    if (!Number.isInteger(settings.mtu) || settings.mtu < 68 || settings.mtu > 65535) {
      throw new Error(`invalid MTU ${settings.mtu} (expected 68-65535)`);
    }
    attrs.push(rtattr(IFLA_MTU, u32(settings.mtu)));
    words.push(`mtu ${settings.mtu}`);
  }
  if (typeof link === "string") {
    if (settings.name !== undefined)
      throw new Error(`cannot rename link "${link}" by name; use its index`);
    checkIfName(link);
    attrs.push(rtattr(IFLA_IFNAME, cstring(link)));
  } else if (settings.name !== undefined) {
    checkIfName(settings.name);
    attrs.push(rtattr(IFLA_IFNAME, cstring(settings.name)));
    words.unshift(`name ${settings.name}`);
  }
  if (settings.up !== undefined) words.push(settings.up ? "up" : "down");
  const flags = settings.up ? IFF_UP : 0;
  const change = settings.up === undefined ? 0 : IFF_UP;
  return {
    type: RTM_NEWLINK,
    flags: NLM_F_REQUEST | NLM_F_ACK,
    body: Buffer.concat([ifinfomsg(typeof link === "string" ? 0 : link, flags, change), ...attrs]),
    subject: [label ?? (typeof link === "string" ? link : `ifindex ${link}`), ...words].join(" "),
  };
}

/** `ip addr add IP/PREFIX [brd B] dev INDEX`: fails with EEXIST if the address is there. */
export function addAddressRequest(
  index: number,
  ip: string,
  prefixLen: number,
  broadcast?: string,
  label?: string,
): Request {
  checkPrefixLen(prefixLen);
  const addr = ipv4Bytes(ip);
  const attrs = [rtattr(IFA_LOCAL, addr), rtattr(IFA_ADDRESS, addr)];
  if (broadcast !== undefined) attrs.push(rtattr(IFA_BROADCAST, ipv4Bytes(broadcast)));
  return {
    type: RTM_NEWADDR,
    flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
    body: Buffer.concat([ifaddrmsg(index, prefixLen), ...attrs]),
    subject: `${label ?? `ifindex ${index}`} ${ip}/${prefixLen}`,
  };
}

/** `ip route add default via GW [dev INDEX]` (main table, proto boot, scope universe). */
export function addDefaultRouteRequest(
  gateway: string,
  index?: number,
  label?: string,
  mtu?: number,
): Request {
  const attrs = [rtattr(RTA_GATEWAY, ipv4Bytes(gateway))];
  if (index !== undefined) attrs.push(rtattr(RTA_OIF, u32(index)));
  if (mtu !== undefined) attrs.push(rtattr(RTA_METRICS, rtattr(RTAX_MTU, u32(mtu))));
  const dev = label ?? (index === undefined ? undefined : `ifindex ${index}`);
  return {
    type: RTM_NEWROUTE,
    flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
    body: Buffer.concat([rtmsg(0), ...attrs]),
    subject: `default via ${gateway}${dev ? ` dev ${dev}` : ""}`,
  };
}

// ---- decoders ----

export interface Message {
  type: number;
  flags: number;
  seq: number;
  port: number;
  payload: Buffer;
}

/** Splits one received datagram into its messages. */
export function parseMessages(buf: Buffer): Message[] {
  const out: Message[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) {
      throw new Error(
        `netlink: malformed message (length ${len} at offset ${off} of ${buf.length})`,
      );
    }
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      port: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** Attributes by type (the last wins); values without their padding. */
export function parseAttrs(buf: Buffer): Map<number, Buffer> {
  const attrs = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    attrs.set(buf.readUInt16LE(off + 2) & 0x3fff, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return attrs;
}

export interface Ack {
  /** 0 for success, else a positive errno. */
  errno: number;
  /** The kernel's reason, when extended acks are on and it gave one. */
  reason?: string;
}

/** The payload of an NLMSG_ERROR: struct nlmsgerr, then extended-ack attributes. */
export function parseAck(msg: Message): Ack {
  const errno = 0 - msg.payload.readInt32LE(0); // negative errno, 0 for success (not -0)
  if (!(msg.flags & NLM_F_ACK_TLVS)) return { errno };
  // The echoed request: its header only when capped, else the whole message.
  const echoedLen = msg.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : msg.payload.readUInt32LE(4);
  const reason = parseAttrs(msg.payload.subarray(4 + align4(echoedLen))).get(NLMSGERR_ATTR_MSG);
  if (!reason) return { errno };
  return { errno, reason: reason.toString("utf8").replace(/\0.*$/s, "") };
}

/** The index and name in an RTM_NEWLINK reply. */
export function parseLink(msg: Message): { index: number; name?: string } {
  const name = parseAttrs(msg.payload.subarray(16)).get(IFLA_IFNAME);
  return {
    index: msg.payload.readInt32LE(4),
    name: name?.toString("utf8").replace(/\0.*$/s, ""),
  };
}

/** A failed rtnetlink request: "netlink RTM_NEWADDR eth0 10.88.0.5/16: EEXIST (File exists)". */
export class NetlinkError extends Error {
  readonly code: string;
  constructor(
    readonly request: string,
    readonly subject: string,
    readonly errno: number,
    readonly reason?: string,
  ) {
    const code = errnoName(errno);
    super(
      `netlink ${request} ${subject}: ${code} (${strerror(errno)}${reason ? `: ${reason}` : ""})`,
    );
    this.code = code;
    this.name = "NetlinkError";
  }
}

// ---- the socket ----

/** A NETLINK_ROUTE socket used synchronously: send a batch, read until each request is acked. */
class Rtnetlink {
  private readonly fd: number;
  private seq: number;
  private readonly buf = Buffer.alloc(65536);

  constructor() {
    this.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    try {
      setsockoptInt(this.fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
      setsockoptInt(this.fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
      bindNetlink(this.fd);
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
    // Starting from the clock, as iproute2 does.
    this.seq = Math.floor(Date.now() / 1000) >>> 0;
  }

  close(): void {
    closeSync(this.fd);
  }

  /**
   * Sends the requests as one datagram (the kernel handles them in order, and goes on after a
   * failure), waits for every ack, then throws the first failure, so the socket is left with
   * nothing unread. Returns each request's replies (other than its ack).
   */
  exchange(requests: readonly Request[]): Message[][] {
    const first = this.seq + 1;
    this.seq = (this.seq + requests.length) >>> 0;
    const seqOf = (i: number): number => (first + i) >>> 0;
    send(this.fd, Buffer.concat(requests.map((r, i) => nlmsg(r.type, r.flags, seqOf(i), r.body))));

    const replies: Message[][] = requests.map(() => []);
    const acks: (Ack | undefined)[] = requests.map(() => undefined);
    let pending = requests.length;
    while (pending > 0) {
      const n = recv(this.fd, this.buf, MSG_TRUNC);
      if (n > this.buf.length)
        throw new Error(`netlink: a ${n}-byte reply did not fit in ${this.buf.length} bytes`);
      for (const msg of parseMessages(this.buf.subarray(0, n))) {
        const i = (msg.seq - first) >>> 0;
        // Not one of this batch's requests (cannot happen on a socket used by one caller).
        if (i >= requests.length || acks[i]) continue;
        if (msg.type === NLMSG_ERROR || msg.type === NLMSG_DONE) {
          acks[i] = msg.type === NLMSG_ERROR ? parseAck(msg) : { errno: 0 };
          pending--;
        } else {
          replies[i]!.push({ ...msg, payload: Buffer.from(msg.payload) });
        }
      }
    }
    const failed = acks.findIndex((a) => a!.errno !== 0);
    if (failed >= 0) {
      const r = requests[failed]!;
      const ack = acks[failed]!;
      throw new NetlinkError(
        RTM_NAMES[r.type] ?? `type ${r.type}`,
        r.subject,
        ack.errno,
        ack.reason,
      );
    }
    return replies;
  }

  linkIndex(name: string): number {
    const [replies] = this.exchange([getLinkRequest(name)]);
    const link = replies?.find((m) => m.type === RTM_NEWLINK);
    if (!link) throw new Error(`netlink RTM_GETLINK ${name}: no link in the kernel's reply`);
    return parseLink(link).index;
  }
}

function withSocket<T>(fn: (nl: Rtnetlink) => T): T {
  const nl = new Rtnetlink();
  try {
    return fn(nl);
  } finally {
    nl.close();
  }
}

// ---- operations ----

/** The index of link `name` in this network namespace; ENODEV when there is none. */
export function linkIndex(name: string): number {
  return withSocket((nl) => nl.linkIndex(name));
}

/** `ip link del NAME` in this network namespace. */
export function deleteLink(name: string): void {
  withSocket((nl) => nl.exchange([deleteLinkRequest(name)]));
}

/** `ip link set`: renames, sets MAC and MTU, brings up or down, in one request. */
export function setLink(index: number, settings: LinkSettings): void {
  withSocket((nl) => nl.exchange([setLinkRequest(index, settings)]));
}

/** `ip link set lo up`: a fresh network namespace's loopback is down. */
export function loopbackUp(): void {
  withSocket((nl) => nl.exchange([setLinkRequest("lo", { up: true })]));
}

/** `ip addr add IP/PREFIX [brd BROADCAST] dev INDEX`. */
export function addAddress(index: number, ip: string, prefixLen: number, broadcast?: string): void {
  withSocket((nl) => nl.exchange([addAddressRequest(index, ip, prefixLen, broadcast)]));
}

/** `ip route add default via GATEWAY [dev INDEX]`. */
export function addDefaultRoute(gateway: string, index?: number): void {
  withSocket((nl) => nl.exchange([addDefaultRouteRequest(gateway, index)]));
}

export interface InterfaceConfig {
  /** The link as it is now (e.g. the veth end moved into this namespace). */
  ifName: string;
  /** Its name in the container, usually eth0. */
  newName?: string;
  mac?: string;
  mtu?: number;
  address: string;
  prefixLen: number;
  /** Default route via this address; none when unset. */
  gateway?: string;
  /** The default route's MTU (`ip route add default via GW mtu N`), when it differs from the link's. */
  routeMtu?: number;
}

/**
 * A container's whole network setup from inside its namespace, in two round trips on one
 * socket: the link's index, then [link settings and up, lo up, address with its broadcast (as
 * Docker sets it), default route]. A failure throws the first failed step; the steps after it
 * may have been applied (the kernel goes on), which is harmless in a namespace about to die.
 * Returns the link's index.
 */
export function configureInterface(config: InterfaceConfig): { index: number } {
  const name = config.newName ?? config.ifName;
  // Every input is checked before anything is changed.
  const build = (index: number): Request[] => {
    const requests = [
      setLinkRequest(
        index,
        { name: config.newName, mac: config.mac, mtu: config.mtu, up: true },
        config.ifName,
      ),
      setLinkRequest("lo", { up: true }),
      addAddressRequest(
        index,
        config.address,
        config.prefixLen,
        config.prefixLen < 31 ? broadcastOf(config.address, config.prefixLen) : undefined,
        name,
      ),
    ];
    if (config.gateway !== undefined)
      requests.push(addDefaultRouteRequest(config.gateway, index, name, config.routeMtu));
    return requests;
  };
  build(1);
  return withSocket((nl) => {
    const index = nl.linkIndex(config.ifName);
    nl.exchange(build(index));
    return { index };
  });
}
