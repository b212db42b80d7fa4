import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { test } from "node:test";
import { TrustedProxies } from "./proxy-trust.ts";

const req = (peer: string, headers: Record<string, string> = {}) =>
  ({ socket: { remoteAddress: peer }, headers }) as unknown as IncomingMessage;

test("forwarded headers are believed only from a trusted proxy", () => {
  const p = new TrustedProxies("10.0.0.5, 192.168.0.0/16");
  const spoof = { "x-forwarded-for": "1.2.3.4", "x-forwarded-proto": "https" };
  assert.equal(p.clientAddress(req("203.0.113.9", spoof)), "203.0.113.9");
  assert.equal(p.isHttps(req("203.0.113.9", spoof)), false);
  assert.equal(p.clientAddress(req("10.0.0.5", spoof)), "1.2.3.4");
  assert.equal(p.isHttps(req("::ffff:10.0.0.5", spoof)), true);
  assert.equal(p.isHttps(req("10.0.0.5", { "x-forwarded-proto": "http" })), false);
});

test("the client is the right-most untrusted hop: what it wrote itself is ignored", () => {
  const p = new TrustedProxies("10.0.0.5,192.168.0.0/16");
  const r = req("10.0.0.5", { "x-forwarded-for": "6.6.6.6, 198.51.100.7, 192.168.3.4" });
  assert.equal(p.clientAddress(r), "198.51.100.7");
  assert.equal(p.clientAddress(req("10.0.0.5", { "x-forwarded-for": "nonsense" })), "10.0.0.5");
  assert.equal(p.clientAddress(req("10.0.0.5")), "10.0.0.5");
});

test("nothing is trusted by default; a bad entry is a one-line error naming it", () => {
  const none = new TrustedProxies(undefined);
  assert.equal(none.clientAddress(req("127.0.0.1", { "x-forwarded-for": "1.2.3.4" })), "127.0.0.1");
  assert.throws(() => new TrustedProxies("10.0.0.1,proxy.lan"), /"proxy\.lan" is not an IP/);
  assert.throws(() => new TrustedProxies("10.0.0.0/33"), /"10\.0\.0\.0\/33"/);
  assert.ok(new TrustedProxies("fd00::/8").trusts("fd00::1"));
});
