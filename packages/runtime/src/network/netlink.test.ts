// The rtnetlink encoders against the bytes iproute2 6.1 sends for the same commands (captured
// with `strace -e trace=sendmsg -e write=3 ip ...`), and the decoders against kernel replies.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  NetlinkError,
  addAddressRequest,
  addDefaultRouteRequest,
  broadcastOf,
  getLinkRequest,
  ipv4Bytes,
  macBytes,
  nlmsg,
  parseAck,
  parseAttrs,
  parseLink,
  parseMessages,
  rtattr,
  setLinkRequest,
  type Request,
} from "./netlink.js";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");
const encode = (r: Request, seq: number): Buffer => nlmsg(r.type, r.flags, seq, r.body);

test("ip link set IF name eth0 address MAC mtu 1450 up", () => {
  const r = setLinkRequest(3, { name: "eth0", mac: "02:42:0a:58:00:05", mtu: 1450, up: true });
  assert.deepEqual(
    encode(r, 0x6b0473f5),
    hex(`40000000 1000 0500 f573046b 00000000
         00 00 0000 03000000 01000000 01000000
         0a00 0100 02420a580005 0000
         0800 0400 aa050000
         0900 0300 65746830 00 000000`),
  );
  assert.equal(r.subject, "ifindex 3 name eth0 address 02:42:0a:58:00:05 mtu 1450 up");
});

test("ip link set lo up, by index; by name the kernel looks the link up", () => {
  assert.deepEqual(
    encode(setLinkRequest(1, { up: true }), 0x6b0473f4),
    hex(`20000000 1000 0500 f473046b 00000000
         00 00 0000 01000000 01000000 01000000`),
  );
  assert.deepEqual(
    setLinkRequest("lo", { up: true }).body,
    hex(`00 00 0000 00000000 01000000 01000000  0700 0300 6c6f00 00`),
  );
  // Down changes the flag without setting it; unset leaves it alone.
  assert.deepEqual(setLinkRequest(2, { up: false }).body.subarray(8), hex("00000000 01000000"));
  assert.deepEqual(setLinkRequest(2, { mtu: 9000 }).body.subarray(8, 16), hex("00000000 00000000"));
});

test("ip addr add 10.88.0.5/16 brd + dev IF", () => {
  const r = addAddressRequest(3, "10.88.0.5", 16, broadcastOf("10.88.0.5", 16), "eth0");
  assert.deepEqual(
    encode(r, 0x6b0473f4),
    hex(`30000000 1400 0506 f473046b 00000000
         02 10 00 00 03000000
         0800 0200 0a580005
         0800 0100 0a580005
         0800 0400 0a58ffff`),
  );
  assert.equal(r.subject, "eth0 10.88.0.5/16");
});

test("ip route add default via 10.88.0.1 [dev IF]", () => {
  assert.deepEqual(
    encode(addDefaultRouteRequest("10.88.0.1"), 0x6b0473f4),
    hex(`24000000 1800 0506 f473046b 00000000
         02 00 00 00 fe 03 00 01 00000000
         0800 0500 0a580001`),
  );
  const withDev = addDefaultRouteRequest("10.88.0.1", 3, "eth0");
  assert.deepEqual(withDev.body.subarray(20), hex("0800 0400 03000000"));
  assert.equal(withDev.subject, "default via 10.88.0.1 dev eth0");
});

test("ip route add default via 10.88.0.1 dev IF mtu 1500: RTA_METRICS nests RTAX_MTU", () => {
  const r = addDefaultRouteRequest("10.88.0.1", 3, "eth0", 1500);
  assert.deepEqual(r.body.subarray(20), hex("0800 0400 03000000  0c00 0800 0800 0200 dc050000"));
});

test("RTM_GETLINK by name asks for an ack and no statistics", () => {
  assert.deepEqual(
    encode(getLinkRequest("vqa"), 7),
    hex(`30000000 1200 0500 07000000 00000000
         00 00 0000 00000000 00000000 00000000
         0800 1d00 08000000
         0800 0300 76716100`),
  );
});

test("attributes are padded to 4 bytes and their length excludes the padding", () => {
  assert.deepEqual(rtattr(3, Buffer.from("eth0\0")), hex("0900 0300 6574683000 000000"));
  assert.deepEqual(rtattr(4, hex("aa050000")), hex("0800 0400 aa050000"));
  const attrs = parseAttrs(
    Buffer.concat([rtattr(3, Buffer.from("eth0\0")), rtattr(4, hex("aa050000"))]),
  );
  assert.equal(attrs.get(3)?.toString(), "eth0\0");
  assert.equal(attrs.get(4)?.readUInt32LE(0), 1450);
});

test("a datagram splits into its messages, padding skipped", () => {
  const a = nlmsg(
    16,
    0,
    5,
    Buffer.concat([hex("00000000 07000000 00000000 00000000"), rtattr(3, Buffer.from("eth0\0"))]),
  );
  const b = nlmsg(2, 0x100, 5, hex("00000000 14000000 1000 0500 05000000 00000000"));
  const msgs = parseMessages(Buffer.concat([a, b]));
  assert.deepEqual(
    msgs.map((m) => [m.type, m.seq, m.payload.length]),
    [
      [16, 5, 28],
      [2, 5, 20],
    ],
  );
  assert.deepEqual(parseLink(msgs[0]!), { index: 7, name: "eth0" });
  assert.deepEqual(parseAck(msgs[1]!), { errno: 0 });
  assert.throws(
    () => parseMessages(hex("ff000000 1000 0000 00000000 00000000")),
    /malformed message/,
  );
});

test("an error ack gives the errno and the kernel's extended reason", () => {
  const reason = rtattr(1, Buffer.from("ipv4: Address already assigned\0"));
  const echoed = hex("30000000 1400 0506 f473046b 00000000");
  // Capped (NETLINK_CAP_ACK): only the request's header is echoed.
  const capped = nlmsg(2, 0x300, 1, Buffer.concat([hex("efffffff"), echoed, reason]));
  assert.deepEqual(parseAck(parseMessages(capped)[0]!), {
    errno: 17,
    reason: "ipv4: Address already assigned",
  });
  // Not capped: the whole request is echoed before the attributes.
  const body = addAddressRequest(3, "10.88.0.5", 16).body;
  const whole = nlmsg(20, 0x605, 1, body);
  const full = nlmsg(2, 0x200, 1, Buffer.concat([hex("efffffff"), whole, reason]));
  assert.equal(parseAck(parseMessages(full)[0]!).reason, "ipv4: Address already assigned");
  // Without extended acks, the errno alone.
  assert.deepEqual(
    parseAck(parseMessages(nlmsg(2, 0x100, 1, Buffer.concat([hex("feffffff"), echoed])))[0]!),
    {
      errno: 2,
    },
  );
});

test("errors are one line with the request, its subject, errno name and text", () => {
  assert.equal(
    new NetlinkError("RTM_NEWADDR", "eth0 10.88.0.5/16", 17).message,
    "netlink RTM_NEWADDR eth0 10.88.0.5/16: EEXIST (File exists)",
  );
  const e = new NetlinkError(
    "RTM_NEWROUTE",
    "default via 10.9.0.1",
    101,
    "Nexthop has invalid gateway",
  );
  assert.equal(e.code, "ENETUNREACH");
  assert.equal(
    e.message,
    "netlink RTM_NEWROUTE default via 10.9.0.1: ENETUNREACH (Network is unreachable: Nexthop has invalid gateway)",
  );
});

test("bad input is refused before anything is sent", () => {
  assert.deepEqual(ipv4Bytes("10.88.0.5"), hex("0a580005"));
  assert.deepEqual(macBytes("02:42:0A:58:00:05"), hex("02420a580005"));
  assert.equal(broadcastOf("172.17.0.2", 16), "172.17.255.255");
  assert.equal(broadcastOf("192.168.16.9", 20), "192.168.31.255");
  assert.equal(broadcastOf("10.1.2.3", 0), "255.255.255.255");
  assert.equal(broadcastOf("10.1.2.3", 32), "10.1.2.3");
  for (const bad of ["10.88.0", "10.88.0.256", "a.b.c.d", ""]) {
    assert.throws(() => ipv4Bytes(bad), /^Error: invalid IPv4 address/);
  }
  assert.throws(() => macBytes("02:42:0a:58:00"), /invalid MAC address "02:42:0a:58:00"/);
  assert.throws(() => setLinkRequest(3, { name: "a-very-long-name0" }), /invalid interface name/);
  assert.throws(() => setLinkRequest(3, { mtu: 20 }), /invalid MTU 20/);
  assert.throws(() => setLinkRequest("lo", { name: "x" }), /cannot rename link "lo" by name/);
  assert.throws(() => addAddressRequest(3, "10.0.0.1", 33), /invalid IPv4 prefix length 33/);
  assert.throws(() => getLinkRequest("bad name"), /invalid interface name "bad name"/);
});
