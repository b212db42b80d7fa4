// The embedded resolver on 127.0.0.1, queried over real UDP and TCP sockets with dns-packet, with
// busybox's nslookup and with glibc (getent, in a network namespace of its own); upstreams are
// dns-packet servers this test starts on 127.0.0.1. Other 127.0.0.0/8 sources stand in for containers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import dgram from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import dnsPacket from "dns-packet";
import type { Answer, DecodedPacket, Packet, RecordType } from "dns-packet";
import { EmbeddedDns, type DnsEndpoint, type EmbeddedDnsOptions } from "./dns.js";

type Reply = DecodedPacket & { rcode: string };

const ID_WEB = "a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0a1b2";
const RECORDS: DnsEndpoint[] = [
  { network: "mynet", containerId: ID_WEB, name: "web", ipv4: "10.88.0.2" },
  {
    network: "mynet",
    containerId: "c".repeat(64),
    name: "api-1",
    aliases: ["api"],
    ipv4: "10.88.0.3",
  },
  {
    network: "mynet",
    containerId: "d".repeat(64),
    name: "api-2",
    aliases: ["api"],
    ipv4: "10.88.0.4",
  },
  { network: "other", containerId: "e".repeat(64), name: "db", ipv4: "10.99.0.2" },
];

function question(name: string, type: RecordType | "ANY" = "A", edns?: number): Packet {
  return {
    type: "query",
    id: Math.floor(Math.random() * 65536),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as RecordType, class: "IN" }],
    additionals:
      edns === undefined
        ? []
        : [
            {
              type: "OPT",
              name: ".",
              udpPayloadSize: edns,
              extendedRcode: 0,
              ednsVersion: 0,
              flags: 0,
              flag_do: false,
              options: [],
            },
          ],
  };
}

/** One datagram to port, the first answer back (undefined after timeoutMs). */
async function udpRaw(
  port: number,
  msg: Buffer,
  opts: { from?: string; timeoutMs?: number } = {},
): Promise<Buffer | undefined> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind({ address: opts.from ?? "127.0.0.1" }, resolve));
  try {
    return await new Promise<Buffer | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), opts.timeoutMs ?? 3000);
      socket.on("message", (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      socket.send(msg, port, "127.0.0.1");
    });
  } finally {
    socket.close();
  }
}

async function udp(
  port: number,
  packet: Packet,
  opts: { from?: string; timeoutMs?: number } = {},
): Promise<Reply> {
  const reply = await udpRaw(port, dnsPacket.encode(packet), opts);
  assert.ok(reply, `no UDP answer to ${packet.questions?.[0]?.name}`);
  const decoded = dnsPacket.decode(reply) as Reply;
  assert.equal(decoded.id, packet.id, "the answer carries the query's id");
  return decoded;
}

/** Frames to port over one TCP connection; every answer frame until the server closes or timeoutMs. */
async function tcpRaw(port: number, data: Buffer, timeoutMs = 3000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const frames: Buffer[] = [];
    let pending = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on("connect", () => socket.write(data));
    socket.on("data", (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        frames.push(pending.subarray(2, 2 + pending.readUInt16BE(0)));
        pending = pending.subarray(2 + pending.readUInt16BE(0));
      }
    });
    socket.on("error", reject);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(frames);
    });
  });
}

function framed(msg: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(msg.length);
  return Buffer.concat([length, msg]);
}

async function tcp(port: number, packet: Packet): Promise<Reply> {
  const socket = net.connect({ host: "127.0.0.1", port });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    socket.write(framed(dnsPacket.encode(packet)));
    let pending = Buffer.alloc(0);
    for await (const chunk of socket) {
      pending = Buffer.concat([pending, chunk as Buffer]);
      if (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) break;
    }
    assert.ok(pending.length >= 2, `no TCP answer to ${packet.questions?.[0]?.name}`);
    const decoded = dnsPacket.decode(pending.subarray(2)) as Reply;
    assert.equal(decoded.id, packet.id);
    return decoded;
  } finally {
    socket.destroy();
  }
}

/** Every answer's data of one type, as strings. */
const data = (reply: Reply, type: string): string[] =>
  (reply.answers ?? []).flatMap((a) => (a.type === type && "data" in a ? [String(a.data)] : []));
const addresses = (reply: Reply): string[] => data(reply, "A");

interface Upstream {
  port: number;
  seen: { name: string; type: string; transport: "udp" | "tcp" }[];
  /** Every answer sent, as bytes. */
  sent: Buffer[];
  close(): Promise<void>;
}

/**
 * A DNS server on 127.0.0.1 (UDP and TCP, one port). `answer` gives the answer records, an
 * rcode, or "silent"; answers too big for 512 bytes over UDP go out truncated, as real servers do.
 */
async function startUpstream(
  answer: (name: string, type: string) => Answer[] | "NXDOMAIN" | "SERVFAIL" | "silent",
): Promise<Upstream> {
  const seen: Upstream["seen"] = [];
  const sent: Buffer[] = [];
  const respond = (msg: Buffer, transport: "udp" | "tcp"): Buffer | undefined => {
    const reply = answerTo(msg, transport);
    if (reply) sent.push(reply);
    return reply;
  };
  const answerTo = (msg: Buffer, transport: "udp" | "tcp"): Buffer | undefined => {
    const query = dnsPacket.decode(msg);
    const q = query.questions?.[0];
    if (!q) return undefined;
    seen.push({ name: q.name, type: q.type, transport });
    const result = answer(q.name, q.type);
    if (result === "silent") return undefined;
    const base = { type: "response" as const, id: query.id, questions: [q] };
    if (result === "NXDOMAIN" || result === "SERVFAIL") {
      return dnsPacket.encode({ ...base, flags: result === "NXDOMAIN" ? 3 : 2 });
    }
    const full = dnsPacket.encode({ ...base, answers: result });
    if (transport === "udp" && full.length > 512) {
      return dnsPacket.encode({ ...base, flags: dnsPacket.TRUNCATED_RESPONSE });
    }
    return full;
  };
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind({ address: "127.0.0.1", port: 0 }, resolve));
  const port = socket.address().port;
  socket.on("message", (msg, rinfo) => {
    const reply = respond(msg, "udp");
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
  });
  const connections = new Set<net.Socket>();
  const server = net.createServer((conn) => {
    connections.add(conn);
    conn.on("close", () => connections.delete(conn));
    let pending = Buffer.alloc(0);
    conn.on("data", (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const reply = respond(pending.subarray(2, 2 + pending.readUInt16BE(0)), "tcp");
        pending = pending.subarray(2 + pending.readUInt16BE(0));
        if (reply) conn.write(framed(reply));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port }, resolve));
  return {
    port,
    seen,
    sent,
    async close() {
      socket.close();
      for (const conn of connections) conn.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The public-name behaviour of a real upstream: example.com, a big TXT, NXDOMAIN otherwise. */
function internet(name: string, type: string): Answer[] | "NXDOMAIN" {
  if (name === "example.com" && type === "A") {
    return [{ type: "A", name, ttl: 300, data: "192.0.2.10" }];
  }
  if (name === "big.example" && type === "TXT") {
    return Array.from({ length: 40 }, (_, i) => ({
      type: "TXT" as const,
      name,
      ttl: 300,
      data: `record ${i} ${"x".repeat(20)}`,
    }));
  }
  return "NXDOMAIN";
}

async function withDns(
  options: EmbeddedDnsOptions,
  fn: (dns: EmbeddedDns, port: number) => Promise<void>,
): Promise<void> {
  const dns = new EmbeddedDns({ timeoutMs: 500, ...options });
  try {
    const { port } = await dns.listen({ network: "mynet", address: "127.0.0.1", port: 0 });
    dns.setRecords(RECORDS);
    await fn(dns, port);
  } finally {
    await dns.close();
  }
}

test("local names: A by name, alias, short id, any case, with the network or a search domain", async () => {
  const upstream = await startUpstream(internet);
  try {
    await withDns(
      {
        upstreams: [{ address: "127.0.0.1", port: upstream.port }],
        searchDomains: ["Corp.Example."],
      },
      async (_dns, port) => {
        for (const name of [
          "web",
          "WeB",
          "web.",
          "web.mynet",
          "WEB.MyNet.",
          "web.corp.example",
          ID_WEB.slice(0, 12),
        ]) {
          const reply = await udp(port, question(name));
          assert.equal(reply.rcode, "NOERROR", name);
          assert.deepEqual(addresses(reply), ["10.88.0.2"], name);
          // Echoed as asked (some resolvers randomize case and check it); dns-packet drops the dot.
          assert.equal(reply.answers?.[0]?.name, name.replace(/\.$/, ""));
          assert.equal(reply.flag_aa, true);
          assert.equal(reply.flag_ra, true);
        }
        const viaTcp = await tcp(port, question("web"));
        assert.deepEqual(addresses(viaTcp), ["10.88.0.2"]);
        const ttl = (await udp(port, question("web"))).answers?.[0];
        assert.equal(ttl && "ttl" in ttl ? ttl.ttl : undefined, 10);

        // An alias on two containers: both addresses, the first one rotating between queries.
        const first = addresses(await udp(port, question("api")));
        const second = addresses(await udp(port, question("api")));
        assert.deepEqual([...first].sort(), ["10.88.0.3", "10.88.0.4"]);
        assert.deepEqual([...second].sort(), ["10.88.0.3", "10.88.0.4"]);
        assert.notEqual(first[0], second[0]);

        // Names of a network this listener does not serve are not local: forwarded (NXDOMAIN upstream).
        assert.equal((await udp(port, question("db"))).rcode, "NXDOMAIN");
        assert.equal((await udp(port, question("db.other"))).rcode, "NXDOMAIN");
        assert.deepEqual(
          upstream.seen.map((s) => s.name),
          ["db", "db.other"],
          "only non-local names reach the upstream",
        );
      },
    );
  } finally {
    await upstream.close();
  }
});

test("local names: AAAA and MX are empty NOERROR, PTR names the container", async () => {
  await withDns({}, async (_dns, port) => {
    for (const type of ["AAAA", "MX", "TXT"] as const) {
      const reply = await udp(port, question("web", type));
      assert.equal(reply.rcode, "NOERROR", type);
      assert.deepEqual(reply.answers, [], type);
    }
    const ptr = await udp(port, question("2.0.88.10.in-addr.arpa", "PTR"));
    assert.equal(ptr.rcode, "NOERROR");
    assert.deepEqual(data(ptr, "PTR"), ["web.mynet"]);
    assert.deepEqual(addresses(await udp(port, question("web", "ANY"))), ["10.88.0.2"]);
    // No upstream at all: a name that is not local fails at once.
    const started = Date.now();
    assert.equal((await udp(port, question("example.com"))).rcode, "SERVFAIL");
    assert.equal((await udp(port, question("2.0.99.10.in-addr.arpa", "PTR"))).rcode, "SERVFAIL");
    assert.ok(Date.now() - started < 400, "no upstream: no waiting");
  });
});

test("records change: the next query sees them", async () => {
  const upstream = await startUpstream(internet);
  try {
    await withDns(
      { upstreams: [{ address: "127.0.0.1", port: upstream.port }] },
      async (dns, port) => {
        assert.deepEqual(addresses(await udp(port, question("web"))), ["10.88.0.2"]);
        dns.setRecords(RECORDS.filter((r) => r.name !== "web"));
        assert.equal((await udp(port, question("web"))).rcode, "NXDOMAIN");
        assert.equal(
          (await udp(port, question("2.0.88.10.in-addr.arpa", "PTR"))).rcode,
          "NXDOMAIN",
        );
        dns.setRecords([
          ...RECORDS.slice(1),
          { ...(RECORDS[0] as DnsEndpoint), ipv4: "10.88.0.9" },
        ]);
        assert.deepEqual(addresses(await udp(port, question("web"))), ["10.88.0.9"]);
        dns.setRecords(RECORDS.filter((r) => r.name !== "api-2"));
        assert.deepEqual(addresses(await udp(port, question("api"))), ["10.88.0.3"]);
        assert.throws(
          () => dns.setRecords([{ network: "n", containerId: "x", name: "bad", ipv4: "10.0.0" }]),
          /DNS record of container "bad" on network "n": "10.0.0" is not an IPv4 address/,
        );
      },
    );
  } finally {
    await upstream.close();
  }
});

test("views: each network's listener serves its names; a container on two networks sees both", async () => {
  const upstream = await startUpstream(internet);
  const dns = new EmbeddedDns({ upstreams: [{ address: "127.0.0.1", port: upstream.port }] });
  try {
    const a = await dns.listen({ network: "neta", address: "127.0.0.1", port: 0 });
    const b = await dns.listen({ network: "netb", address: "127.0.0.1", port: 0 });
    // 127.0.0.2 is container "both" on neta and netb; 127.0.0.3 is container "lonely" on netb only.
    dns.setRecords([
      { network: "neta", containerId: "1".repeat(64), name: "both", ipv4: "127.0.0.2" },
      { network: "netb", containerId: "1".repeat(64), name: "both", ipv4: "127.0.0.12" },
      { network: "neta", containerId: "2".repeat(64), name: "alpha", ipv4: "10.1.0.5" },
      { network: "netb", containerId: "3".repeat(64), name: "lonely", ipv4: "127.0.0.3" },
      { network: "netb", containerId: "4".repeat(64), name: "beta", ipv4: "10.2.0.5" },
    ]);
    const ask = (port: number, name: string, from: string) => udp(port, question(name), { from });
    assert.deepEqual(addresses(await ask(a.port, "alpha", "127.0.0.2")), ["10.1.0.5"]);
    assert.deepEqual(addresses(await ask(a.port, "beta", "127.0.0.2")), ["10.2.0.5"]);
    assert.deepEqual(addresses(await ask(a.port, "beta.netb", "127.0.0.2")), ["10.2.0.5"]);
    // Its own name resolves to the address on the network asked first.
    assert.deepEqual(addresses(await ask(a.port, "both", "127.0.0.2")), ["127.0.0.2"]);
    assert.deepEqual(addresses(await ask(a.port, "both.netb", "127.0.0.2")), ["127.0.0.12"]);
    // The host (unknown source) sees only the listener's network; "lonely" sees only netb.
    assert.equal((await ask(a.port, "beta", "127.0.0.1")).rcode, "NXDOMAIN");
    assert.deepEqual(addresses(await ask(b.port, "beta", "127.0.0.3")), ["10.2.0.5"]);
    assert.equal((await ask(b.port, "alpha", "127.0.0.3")).rcode, "NXDOMAIN");
    assert.equal((await ask(b.port, "alpha.neta", "127.0.0.3")).rcode, "NXDOMAIN");
    // Network removed: its listener is gone, the other still answers.
    await dns.unlisten({ address: "127.0.0.1", port: a.port });
    assert.equal(
      await udpRaw(a.port, dnsPacket.encode(question("alpha")), { timeoutMs: 300 }),
      undefined,
    );
    assert.deepEqual(addresses(await ask(b.port, "beta", "127.0.0.1")), ["10.2.0.5"]);
  } finally {
    await dns.close();
    await upstream.close();
  }
});

test("clients outside the listener's subnet get no answer", async () => {
  const dns = new EmbeddedDns();
  try {
    const closed = await dns.listen({
      network: "mynet",
      address: "127.0.0.1",
      port: 0,
      clients: "10.0.0.0/8",
    });
    const open = await dns.listen({
      network: "mynet",
      address: "127.0.0.1",
      port: 0,
      clients: "127.0.0.0/8",
    });
    dns.setRecords(RECORDS);
    const query = dnsPacket.encode(question("web"));
    assert.equal(await udpRaw(closed.port, query, { timeoutMs: 300 }), undefined);
    assert.deepEqual(
      await tcpRaw(closed.port, framed(query), 1000),
      [],
      "TCP closed without answer",
    );
    assert.deepEqual(addresses(await udp(open.port, question("web"))), ["10.88.0.2"]);
    await assert.rejects(
      dns.listen({ network: "x", address: "127.0.0.1", port: open.port }),
      /cannot serve DNS on 127.0.0.1:\d+: .*another program holds this port/,
    );
    await assert.rejects(
      dns.listen({ network: "x", address: "192.0.2.77", port: 0 }),
      /cannot serve DNS on 192.0.2.77:0: .*no interface of this host has this address/,
    );
  } finally {
    await dns.close();
  }
});

test("forwarding: verbatim over UDP, truncated answers retried over TCP, id rewritten back", async () => {
  const upstream = await startUpstream(internet);
  try {
    await withDns(
      { upstreams: [{ address: "127.0.0.1", port: upstream.port }] },
      async (_dns, port) => {
        const query = question("example.com");
        const raw = await udpRaw(port, dnsPacket.encode(query));
        assert.ok(raw);
        assert.equal(raw.readUInt16BE(0), query.id);
        assert.deepEqual(raw.subarray(2), upstream.sent[0]?.subarray(2), "the upstream's bytes");
        const reply = dnsPacket.decode(raw) as Reply;
        assert.equal(reply.rcode, "NOERROR");
        assert.deepEqual(addresses(reply), ["192.0.2.10"]);
        assert.equal(reply.flag_aa, false, "the upstream's answer, not ours");

        const truncated = await udp(port, question("big.example", "TXT"));
        assert.equal(truncated.flag_tc, true);
        assert.deepEqual(truncated.answers, []);
        const full = await tcp(port, question("big.example", "TXT"));
        assert.equal(full.flag_tc, false);
        assert.equal(full.answers?.length, 40);
        assert.deepEqual(
          upstream.seen.map((s) => `${s.name} ${s.transport}`),
          ["example.com udp", "big.example udp", "big.example tcp"],
        );
      },
    );
  } finally {
    await upstream.close();
  }
});

test("forwarding: a silent or failing upstream moves on to the next; none left is SERVFAIL", async () => {
  const silent = await startUpstream(() => "silent");
  const failing = await startUpstream(() => "SERVFAIL");
  const good = await startUpstream(internet);
  try {
    await withDns(
      {
        timeoutMs: 300,
        upstreams: [
          { address: "127.0.0.1", port: silent.port },
          { address: "127.0.0.1", port: failing.port },
          { address: "127.0.0.1", port: good.port },
        ],
      },
      async (dns, port) => {
        let started = Date.now();
        assert.deepEqual(addresses(await udp(port, question("example.com"))), ["192.0.2.10"]);
        const elapsed = Date.now() - started;
        assert.ok(elapsed >= 280 && elapsed < 1500, `waited ${elapsed} ms for the silent upstream`);
        assert.deepEqual(addresses(await tcp(port, question("example.com"))), ["192.0.2.10"]);

        dns.setUpstreams([{ address: "127.0.0.1", port: silent.port }]);
        started = Date.now();
        assert.equal((await udp(port, question("example.com"))).rcode, "SERVFAIL");
        assert.equal((await tcp(port, question("example.com"))).rcode, "SERVFAIL");
        assert.ok(Date.now() - started < 1500);

        // The last upstream's own SERVFAIL is passed on.
        dns.setUpstreams([{ address: "127.0.0.1", port: failing.port }]);
        assert.equal((await udp(port, question("example.com"))).rcode, "SERVFAIL");
      },
    );
  } finally {
    await Promise.all([silent.close(), failing.close(), good.close()]);
  }
});

test("forwarding: at most maxForwards queries in flight, a quarter of them per client; the rest dropped", async () => {
  const silent = await startUpstream(() => "silent");
  try {
    await withDns(
      { timeoutMs: 800, maxForwards: 8, upstreams: [{ address: "127.0.0.1", port: silent.port }] },
      async (_dns, port) => {
        // Five "containers" (sources 127.0.0.1-5) send six queries each, all at once.
        const clients = [1, 2, 3, 4, 5];
        const replies = await Promise.all(
          clients.flatMap((c) =>
            Array.from({ length: 6 }, (_, i) =>
              udpRaw(port, dnsPacket.encode(question(`c${c}-name${i}.example`)), {
                from: `127.0.0.${c}`,
                timeoutMs: 1500,
              }),
            ),
          ),
        );
        assert.equal(silent.seen.length, 8, "maxForwards in all");
        for (const c of clients) {
          const forwarded = silent.seen.filter((q) => q.name.startsWith(`c${c}-`)).length;
          assert.ok(forwarded <= 2, `client ${c}: ${forwarded} forwarded, at most 8 / 4`);
        }
        const answered = replies
          .filter((r) => r !== undefined)
          .map((r) => dnsPacket.decode(r as Buffer) as Reply);
        assert.deepEqual(
          answered.map((r) => r.rcode),
          Array.from({ length: 8 }, () => "SERVFAIL"),
        );
        // Local names are answered even while forwarding is saturated.
        assert.deepEqual(addresses(await udp(port, question("web"))), ["10.88.0.2"]);
      },
    );
  } finally {
    await silent.close();
  }
});

test("TCP: one client holds at most 16 connections; others are still served", async () => {
  await withDns({}, async (_dns, port) => {
    const open = async (from: string): Promise<net.Socket> => {
      const socket = net.connect({ host: "127.0.0.1", port, localAddress: from });
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      });
      return socket;
    };
    const held = await Promise.all(Array.from({ length: 16 }, () => open("127.0.0.2")));
    try {
      // The 17th from the same source is closed at once, without an answer.
      const extra = await open("127.0.0.2");
      const closed = await new Promise<boolean>((resolve) => {
        extra.once("close", () => resolve(true));
        setTimeout(() => resolve(false), 2000);
        extra.write(framed(dnsPacket.encode(question("web"))));
      });
      assert.ok(closed, "the 17th connection is closed");
      assert.deepEqual(addresses(await tcp(port, question("web"))), ["10.88.0.2"]);
      // One of the 16 leaves: that client may connect again.
      held.pop()?.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const again = await open("127.0.0.2");
      const reply = await new Promise<Buffer>((resolve, reject) => {
        again.once("data", resolve);
        again.once("close", () => reject(new Error("closed without an answer")));
        again.write(framed(dnsPacket.encode(question("web"))));
      });
      again.destroy();
      assert.ok(reply.length > 2);
    } finally {
      for (const s of held) s.destroy();
    }
  });
});

test("big local answers: truncated over UDP without EDNS, whole with EDNS and over TCP", async () => {
  await withDns({}, async (dns, port) => {
    const many: DnsEndpoint[] = Array.from({ length: 40 }, (_, i) => ({
      network: "mynet",
      containerId: `${i}`.padStart(64, "f"),
      name: `worker-${i}`,
      aliases: ["workers"],
      ipv4: `10.88.1.${i + 1}`,
    }));
    dns.setRecords(many);
    const plain = await udp(port, question("workers"));
    assert.equal(plain.flag_tc, true);
    assert.deepEqual(plain.answers, []);
    const edns = await udp(port, question("workers", "A", 4096));
    assert.equal(edns.flag_tc, false);
    assert.equal(addresses(edns).length, 40);
    assert.ok(
      edns.additionals?.some((a) => a.type === "OPT"),
      "EDNS answered with EDNS",
    );
    assert.equal(addresses(await tcp(port, question("workers"))).length, 40);
  });
});

test("hostile input: garbage, responses and bad frames get nothing and the server keeps answering", async () => {
  await withDns({}, async (_dns, port) => {
    const valid = dnsPacket.encode(question("web"));
    const response = Buffer.from(valid);
    response.writeUInt16BE(response.readUInt16BE(2) | 0x8000, 2);
    const twoQuestions = dnsPacket.encode({
      type: "query",
      id: 7,
      questions: [
        { name: "web", type: "A" },
        { name: "api", type: "A" },
      ],
    });
    const badPointer = Buffer.from(valid);
    badPointer[12] = 0xc0; // name compression pointer to itself
    badPointer[13] = 0x0c;
    const notQuery = Buffer.from(valid);
    notQuery.writeUInt16BE(notQuery.readUInt16BE(2) | (5 << 11), 2); // opcode UPDATE
    const garbage = [
      Buffer.alloc(0),
      Buffer.from("hello"),
      Buffer.alloc(11),
      valid.subarray(0, valid.length - 3),
      response,
      twoQuestions,
      badPointer,
      notQuery,
      Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 7919) % 256)),
    ];
    for (const msg of garbage) {
      assert.equal(
        await udpRaw(port, msg, { timeoutMs: 150 }),
        undefined,
        msg.toString("hex").slice(0, 40),
      );
    }
    assert.deepEqual(addresses(await udp(port, question("web"))), ["10.88.0.2"]);

    // TCP: a garbage frame gets nothing, the next frame on the same connection is answered.
    const frames = await tcpRaw(port, Buffer.concat([framed(badPointer), framed(valid)]), 1000);
    assert.equal(frames.length, 1);
    assert.deepEqual(addresses(dnsPacket.decode(frames[0] as Buffer) as Reply), ["10.88.0.2"]);
    // Length prefixes no query can have close the connection at once.
    const started = Date.now();
    assert.deepEqual(await tcpRaw(port, Buffer.from([0xff, 0xff, 1, 2, 3]), 2000), []);
    assert.deepEqual(await tcpRaw(port, Buffer.from([0x00, 0x05, 1, 2, 3, 4, 5]), 2000), []);
    assert.ok(Date.now() - started < 1000, "closed by the server, not by the test's timeout");
    assert.deepEqual(addresses(await tcp(port, question("web"))), ["10.88.0.2"]);
  });
});

test("never forwards to itself; close() frees the port and abandons forwarded queries", async () => {
  const dns = new EmbeddedDns({ timeoutMs: 5000 });
  const { port } = await dns.listen({ network: "mynet", address: "127.0.0.1", port: 0 });
  dns.setUpstreams([{ address: "127.0.0.1", port }]);
  assert.equal((await udp(port, question("example.com"))).rcode, "SERVFAIL");

  const silent = await startUpstream(() => "silent");
  try {
    dns.setUpstreams([{ address: "127.0.0.1", port: silent.port }]);
    const pending = udpRaw(port, dnsPacket.encode(question("slow.example")), { timeoutMs: 1000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await dns.close();
    assert.ok(Date.now() - started < 1000, "close() does not wait for upstreams");
    assert.equal(await pending, undefined);
    // Both ports are free again.
    const again = new EmbeddedDns();
    await again.listen({ network: "mynet", address: "127.0.0.1", port });
    await again.close();
    await assert.rejects(dns.listen({ network: "mynet", address: "127.0.0.1", port: 0 }), /closed/);
  } finally {
    await silent.close();
  }
});

test("busybox nslookup resolves local and forwarded names through it", async () => {
  const upstream = await startUpstream(internet);
  try {
    await withDns(
      { upstreams: [{ address: "127.0.0.1", port: upstream.port }] },
      async (_dns, port) => {
        const run = promisify(execFile);
        const server = `127.0.0.1:${port}`;
        const web = await run("busybox", ["nslookup", "web", server], { timeout: 10_000 });
        assert.match(web.stdout, /Name:\s+web\nAddress: 10\.88\.0\.2/);
        const api = await run("busybox", ["nslookup", "-type=a", "api.mynet", server], {
          timeout: 10_000,
        });
        assert.match(api.stdout, /10\.88\.0\.3/);
        assert.match(api.stdout, /10\.88\.0\.4/);
        const ptr = await run("busybox", ["nslookup", "10.88.0.2", server], { timeout: 10_000 });
        assert.match(ptr.stdout, /name = web\.mynet/);
        const ext = await run("busybox", ["nslookup", "-type=a", "example.com", server], {
          timeout: 10_000,
        });
        assert.match(ext.stdout, /192\.0\.2\.10/);
        await assert.rejects(
          run("busybox", ["nslookup", "-type=a", "nothere", server], { timeout: 10_000 }),
          (err: { stdout: string }) => /NXDOMAIN/.test(err.stdout),
        );
      },
    );
  } finally {
    await upstream.close();
  }
});

test(
  "glibc's resolver (getent) in a fresh network namespace resolves through it on port 53",
  { skip: process.getuid?.() !== 0 ? "needs root (unshare)" : false },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "corral-dns-"));
    try {
      const resolvConf = join(dir, "resolv.conf");
      writeFileSync(resolvConf, "nameserver 127.0.0.1\nsearch corp.example\noptions ndots:0\n");
      // Runs inside the namespace: the resolver on 127.0.0.1:53 there, getent asking it.
      const script = `
        import { execFile } from "node:child_process";
        import { promisify } from "node:util";
        import { EmbeddedDns } from ${JSON.stringify(fileURLToPath(new URL("./dns.ts", import.meta.url)))};
        const dns = new EmbeddedDns({ searchDomains: ["corp.example"] });
        await dns.listen({ network: "mynet", address: "127.0.0.1", port: 53 });
        dns.setRecords(JSON.parse(process.env.RECORDS));
        const out = {};
        for (const args of JSON.parse(process.env.QUERIES)) {
          try { out[args.join(" ")] = (await promisify(execFile)("getent", args)).stdout; }
          catch (err) { out[args.join(" ")] = "exit " + err.code; }
        }
        await dns.close();
        console.log(JSON.stringify(out));`;
      const queries = [
        ["hosts", "web"],
        ["ahosts", "api"],
        ["hosts", "web.mynet"],
        ["hosts", "web.corp.example"],
        ["hosts", "10.88.0.2"],
        ["hosts", "nothere"],
      ];
      const { stdout } = await promisify(execFile)(
        "unshare",
        [
          "--net",
          "--mount",
          "sh",
          "-c",
          'ip link set lo up && mount --bind "$1" /etc/resolv.conf && exec node --import tsx --input-type=module -e "$2"',
          "sh",
          resolvConf,
          script,
        ],
        {
          cwd: fileURLToPath(new URL("../..", import.meta.url)),
          env: {
            ...process.env,
            RECORDS: JSON.stringify(RECORDS),
            QUERIES: JSON.stringify(queries),
          },
          timeout: 60_000,
        },
      );
      const out = JSON.parse(stdout) as Record<string, string>;
      assert.match(out["hosts web"] ?? "", /^10\.88\.0\.2\s+web\n$/);
      // getaddrinfo asks A and AAAA at once: the empty AAAA must not hide the A answers.
      assert.match(out["ahosts api"] ?? "", /10\.88\.0\.3\s+STREAM/);
      assert.match(out["ahosts api"] ?? "", /10\.88\.0\.4\s+STREAM/);
      assert.match(out["hosts web.mynet"] ?? "", /^10\.88\.0\.2\s+web\.mynet\n$/);
      assert.match(out["hosts web.corp.example"] ?? "", /^10\.88\.0\.2\s/);
      assert.match(out["hosts 10.88.0.2"] ?? "", /^10\.88\.0\.2\s+web\.mynet\n$/);
      assert.equal(out["hosts nothere"], "exit 2");
    } finally {
      rmSync(dir, { recursive: true });
    }
  },
);
