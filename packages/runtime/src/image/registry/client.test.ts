import { test } from "node:test";
import assert from "node:assert/strict";
import {
  RegistryClient,
  isInsecureRegistry,
  parseChallenges,
  registryBaseUrl,
  readCapped,
} from "./client.js";

test("WWW-Authenticate challenges parse, quoted values and several schemes included", () => {
  assert.deepEqual(
    parseChallenges(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
    ),
    [
      {
        scheme: "bearer",
        params: {
          realm: "https://auth.docker.io/token",
          service: "registry.docker.io",
          scope: "repository:library/busybox:pull",
        },
      },
    ],
  );
  assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [
    { scheme: "basic", params: { realm: "Registry Realm" } },
  ]);
  const both = parseChallenges('Basic realm="a, b", Bearer realm="https://x/t",error="x\\"y"');
  assert.deepEqual(
    both.map((c) => c.scheme),
    ["basic", "bearer"],
  );
  assert.equal(both[0]?.params.realm, "a, b");
  assert.equal(both[1]?.params.error, 'x"y');
  assert.deepEqual(parseChallenges(""), []);
});

test("plain HTTP only for loopback and listed insecure registries", () => {
  assert.equal(isInsecureRegistry("127.0.0.1:5000"), true);
  assert.equal(isInsecureRegistry("localhost"), true);
  assert.equal(isInsecureRegistry("[::1]:5000"), true);
  assert.equal(isInsecureRegistry("registry.example.com:5000"), false);
  assert.equal(
    isInsecureRegistry("registry.example.com:5000", ["registry.example.com:5000"]),
    true,
  );
  assert.equal(isInsecureRegistry("registry.example.com:5000", ["registry.example.com"]), true);
  assert.equal(
    isInsecureRegistry("registry.example.com:5000", ["registry.example.com:5001"]),
    false,
  );
  // HTTPS is always tried first; the fallback to plain HTTP is the client's (tests below).
  assert.equal(registryBaseUrl("docker.io"), "https://registry-1.docker.io");
  assert.equal(registryBaseUrl("127.0.0.1:5000"), "https://127.0.0.1:5000");
  assert.equal(registryBaseUrl("ghcr.io"), "https://ghcr.io");
});

interface Call {
  url: string;
  authorization: string | undefined;
}

/** A fetch answering from a table of handlers keyed by URL, recording each call. */
function fakeFetch(
  calls: Call[],
  handler: (url: URL, auth: string | undefined, method: string) => Response,
) {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    const authorization = headers.get("authorization") ?? undefined;
    calls.push({ url: url.href, authorization });
    return handler(url, authorization, init?.method ?? "GET");
  }) as typeof fetch;
}

test("a blob redirect to another origin is followed without the Authorization header", async () => {
  const calls: Call[] = [];
  const client = new RegistryClient({
    registry: "registry.example.com",
    repository: "team/app",
    credentials: { username: "u", password: "p" },
    fetch: fakeFetch(calls, (url, auth) => {
      if (url.host === "registry.example.com") {
        if (auth === undefined) {
          return new Response("", {
            status: 401,
            headers: { "www-authenticate": 'Basic realm="r"' },
          });
        }
        return new Response("", {
          status: 307,
          headers: { location: "https://cdn.example.net/blob?sig=1" },
        });
      }
      return new Response("data");
    }),
  });
  const blob = await client.getBlob(`sha256:${"a".repeat(64)}`);
  const chunks: Buffer[] = [];
  for await (const chunk of blob.body) chunks.push(chunk);
  assert.equal(Buffer.concat(chunks).toString(), "data");
  const basic = `Basic ${Buffer.from("u:p").toString("base64")}`;
  assert.deepEqual(calls, [
    {
      url: `https://registry.example.com/v2/team/app/blobs/sha256:${"a".repeat(64)}`,
      authorization: undefined,
    },
    {
      url: `https://registry.example.com/v2/team/app/blobs/sha256:${"a".repeat(64)}`,
      authorization: basic,
    },
    { url: "https://cdn.example.net/blob?sig=1", authorization: undefined },
  ]);
});

test("a 401 from a redirect target is an error: no credentials go to the realm it names", async () => {
  const calls: Call[] = [];
  const client = new RegistryClient({
    registry: "registry.example.com",
    repository: "app",
    credentials: { username: "u", password: "p" },
    fetch: fakeFetch(calls, (url) => {
      if (url.host === "registry.example.com") {
        return new Response("", {
          status: 307,
          headers: { location: "https://cdn.example.net/b" },
        });
      }
      if (url.host === "cdn.example.net") {
        return new Response("", {
          status: 401,
          headers: { "www-authenticate": 'Bearer realm="https://evil.example.org/token"' },
        });
      }
      return new Response('{"token":"t"}');
    }),
  });
  const digest = `sha256:${"d".repeat(64)}`;
  await assert.rejects(client.getBlob(digest), {
    message: `cdn.example.net (redirect target) answered 401 for blob ${digest} of registry.example.com/app; credentials are sent to registry.example.com only`,
  });
  assert.deepEqual(calls, [
    { url: `https://registry.example.com/v2/app/blobs/${digest}`, authorization: undefined },
    { url: "https://cdn.example.net/b", authorization: undefined },
  ]);
});

/** A registry whose upload POST answers with `location`; records the calls. */
function uploadRegistry(calls: Call[], location: string, uploadStatus = 201) {
  return fakeFetch(calls, (url, auth, method) => {
    if (url.host === "registry.example.com") {
      if (auth === undefined) {
        return new Response("", {
          status: 401,
          headers: { "www-authenticate": 'Basic realm="r"' },
        });
      }
      if (method === "POST") return new Response("", { status: 202, headers: { location } });
      return new Response("", { status: 201 });
    }
    if (url.host === "auth.example.org") return new Response('{"token":"t"}');
    if (uploadStatus === 401) {
      return new Response("", {
        status: 401,
        headers: { "www-authenticate": 'Bearer realm="https://auth.example.org/token"' },
      });
    }
    return new Response("", { status: uploadStatus });
  });
}

async function* oneChunk(): AsyncGenerator<Uint8Array> {
  yield Buffer.from("layer");
}

test("an upload location on plain HTTP is refused before any byte is sent", async () => {
  const calls: Call[] = [];
  const client = new RegistryClient({
    registry: "registry.example.com",
    repository: "app",
    credentials: { username: "u", password: "p" },
    fetch: uploadRegistry(calls, "http://uploads.example.net/u/1"),
  });
  await assert.rejects(
    client.uploadBlob(`sha256:${"e".repeat(64)}`, 5, oneChunk),
    /^ImageError: https:\/\/registry\.example\.com gave an upload location on plain HTTP \(http:\/\/uploads\.example\.net\), which is allowed only for insecure registries$/,
  );
  assert.deepEqual(
    calls.filter((c) => !c.url.startsWith("https://registry.example.com/")),
    [],
  );
});

test("an upload location on another origin gets no Authorization, and its 401 is an error", async () => {
  const digest = `sha256:${"f".repeat(64)}`;
  const basic = `Basic ${Buffer.from("u:p").toString("base64")}`;
  const calls: Call[] = [];
  const elsewhere = new RegistryClient({
    registry: "registry.example.com",
    repository: "app",
    credentials: { username: "u", password: "p" },
    fetch: uploadRegistry(calls, "https://uploads.example.net/u/1"),
  });
  await elsewhere.uploadBlob(digest, 5, oneChunk);
  assert.deepEqual(calls.slice(2), [
    {
      url: `https://uploads.example.net/u/1?digest=${encodeURIComponent(digest)}`,
      authorization: undefined,
    },
  ]);
  assert.equal(calls[1]?.authorization, basic);

  const refusing = new RegistryClient({
    registry: "registry.example.com",
    repository: "app",
    credentials: { username: "u", password: "p" },
    fetch: uploadRegistry(calls.splice(0), "https://uploads.example.net/u/1", 401),
  });
  await assert.rejects(refusing.uploadBlob(digest, 5, oneChunk), {
    message: `uploads.example.net (upload location) answered 401 for upload of blob ${digest} to registry.example.com/app; credentials are sent to registry.example.com only`,
  });
  assert.deepEqual(
    calls.filter((c) => c.url.startsWith("https://auth.example.org/")),
    [],
  );
});

test("a redirect from HTTPS to plain HTTP is refused", async () => {
  const client = new RegistryClient({
    registry: "registry.example.com",
    repository: "app",
    fetch: fakeFetch(
      [],
      () => new Response("", { status: 302, headers: { location: "http://cdn.example.net/x" } }),
    ),
  });
  await assert.rejects(client.getBlob(`sha256:${"b".repeat(64)}`), /redirected to plain HTTP/);
});

test("a wrong Basic password is one line saying so", async () => {
  const client = new RegistryClient({
    registry: "registry.example.com",
    repository: "app",
    credentials: { username: "u", password: "nope" },
    fetch: fakeFetch(
      [],
      () => new Response("", { status: 401, headers: { "www-authenticate": 'Basic realm="r"' } }),
    ),
  });
  await assert.rejects(client.getManifest("latest", ["x"], 1000), {
    message:
      "unauthorized: authentication to registry.example.com failed: wrong username or password",
  });
});

test("a token realm over plain HTTP to a non-loopback host is refused", async () => {
  const client = new RegistryClient({
    registry: "registry.example.com",
    repository: "app",
    fetch: fakeFetch(
      [],
      () =>
        new Response("", {
          status: 401,
          headers: { "www-authenticate": 'Bearer realm="http://auth.example.com/token"' },
        }),
    ),
  });
  await assert.rejects(client.getManifest("latest", ["x"], 1000), /which is not HTTPS/);
});

test("bodies over the cap are refused by Content-Length and while streaming", async () => {
  await assert.rejects(
    readCapped(new Response("x".repeat(10), { headers: { "content-length": "10" } }), 5, "doc"),
    /doc is 10 bytes, more than the limit of 5/,
  );
  const stream = new ReadableStream({
    start(controller) {
      controller.enqueue(new Uint8Array(4));
      controller.enqueue(new Uint8Array(4));
      controller.close();
    },
  });
  await assert.rejects(readCapped(new Response(stream), 5, "doc"), /larger than the limit/);
  assert.equal((await readCapped(new Response("abc"), 5, "doc")).toString(), "abc");
});

// ---- HTTPS, unverified TLS and the plain HTTP fallback ------------------------------------

interface Sent {
  url: string;
  /** whether the request went with a dispatcher (the one that skips certificate checks) */
  unverified: boolean;
}

/** fetch's error when the TCP or TLS layer fails: a TypeError whose cause carries the code. */
function networkError(code: string, message: string): TypeError {
  return new TypeError("fetch failed", { cause: Object.assign(new Error(message), { code }) });
}

/**
 * A registry host answering the way a real one does over each scheme: `https` is a failure
 * (the error to throw) or "ok"; plain HTTP always answers. Records every request.
 */
function schemeFetch(sent: Sent[], https: TypeError | "ok") {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    sent.push({ url: url.href, unverified: init?.dispatcher !== undefined });
    if (url.protocol === "https:" && https !== "ok") throw https;
    if (url.pathname === "/v2/") return new Response("{}");
    return new Response('{"schemaVersion":2}', {
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
    });
  }) as typeof fetch;
}

const NOT_TLS = networkError(
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "error:0A00010B:SSL routines:ssl3_get_record:wrong version number\n",
);
const SELF_SIGNED = networkError("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate");

async function twoManifests(client: RegistryClient): Promise<void> {
  await client.getManifest("latest", ["x"], 1000);
  await client.getManifest("v2", ["x"], 1000);
}

test("a listed registry that does not speak TLS: one HTTPS probe, then plain HTTP", async () => {
  const sent: Sent[] = [];
  const client = new RegistryClient({
    registry: "registry.lan:5000",
    repository: "team/app",
    insecureRegistries: ["registry.lan:5000"],
    fetch: schemeFetch(sent, NOT_TLS),
  });
  await twoManifests(client);
  assert.deepEqual(sent, [
    { url: "https://registry.lan:5000/v2/", unverified: true },
    { url: "http://registry.lan:5000/v2/team/app/manifests/latest", unverified: false },
    { url: "http://registry.lan:5000/v2/team/app/manifests/v2", unverified: false },
  ]);
  assert.equal(client.baseUrl, "http://registry.lan:5000");
});

test("a listed registry that speaks TLS stays on HTTPS, without certificate checks", async () => {
  const sent: Sent[] = [];
  const client = new RegistryClient({
    registry: "10.1.2.3:5000",
    repository: "app",
    insecureRegistries: ["10.0.0.0/8"],
    fetch: schemeFetch(sent, "ok"),
  });
  await twoManifests(client);
  assert.deepEqual(sent, [
    { url: "https://10.1.2.3:5000/v2/", unverified: true },
    { url: "https://10.1.2.3:5000/v2/app/manifests/latest", unverified: true },
    { url: "https://10.1.2.3:5000/v2/app/manifests/v2", unverified: true },
  ]);
});

test("an unlisted registry is verified HTTPS only: no probe, no fallback, one-line advice", async () => {
  const sent: Sent[] = [];
  const client = new RegistryClient({
    registry: "registry.example.com",
    repository: "app",
    insecureRegistries: ["registry.lan:5000"],
    fetch: schemeFetch(sent, SELF_SIGNED),
  });
  await assert.rejects(client.getManifest("latest", ["x"], 1000), {
    message:
      "x509/TLS error from https://registry.example.com: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT): " +
      "add registry.example.com to insecure-registries in /etc/corral/runtime.json if you trust it",
  });
  const plain = new RegistryClient({
    registry: "registry.example.com",
    repository: "app",
    fetch: schemeFetch(sent, NOT_TLS),
  });
  await assert.rejects(plain.getManifest("latest", ["x"], 1000), (err: Error) => {
    assert.match(err.message, /^cannot reach https:\/\/registry\.example\.com: .*wrong version/);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
  assert.deepEqual(sent, [
    { url: "https://registry.example.com/v2/app/manifests/latest", unverified: false },
    { url: "https://registry.example.com/v2/app/manifests/latest", unverified: false },
  ]);
});

test("loopback: plain HTTP when it does not speak TLS, but a bad certificate is refused", async () => {
  const sent: Sent[] = [];
  const plain = new RegistryClient({
    registry: "127.0.0.1:5000",
    repository: "app",
    fetch: schemeFetch(sent, NOT_TLS),
  });
  await plain.getManifest("latest", ["x"], 1000);
  assert.deepEqual(sent.splice(0), [
    { url: "https://127.0.0.1:5000/v2/", unverified: false },
    { url: "http://127.0.0.1:5000/v2/app/manifests/latest", unverified: false },
  ]);
  const selfSigned = new RegistryClient({
    registry: "localhost:5000",
    repository: "app",
    fetch: schemeFetch(sent, SELF_SIGNED),
  });
  await assert.rejects(selfSigned.getManifest("latest", ["x"], 1000), {
    message:
      /^x509\/TLS error from https:\/\/localhost:5000: .*: add localhost:5000 to insecure-registries/,
  });
  assert.deepEqual(sent, [{ url: "https://localhost:5000/v2/", unverified: false }]);
});

test("unverified TLS goes to listed hosts only, not to where they redirect", async () => {
  const sent: Sent[] = [];
  const client = new RegistryClient({
    registry: "registry.lan",
    repository: "app",
    insecureRegistries: ["registry.lan"],
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input));
      sent.push({ url: url.href, unverified: init?.dispatcher !== undefined });
      if (url.host === "registry.lan" && url.pathname !== "/v2/") {
        return new Response("", {
          status: 307,
          headers: { location: "https://cdn.example.net/b" },
        });
      }
      return new Response("data");
    }) as typeof fetch,
  });
  const blob = await client.getBlob(`sha256:${"c".repeat(64)}`);
  for await (const chunk of blob.body) assert.equal(chunk.toString(), "data");
  assert.deepEqual(sent, [
    { url: "https://registry.lan/v2/", unverified: true },
    { url: `https://registry.lan/v2/app/blobs/sha256:${"c".repeat(64)}`, unverified: true },
    { url: "https://cdn.example.net/b", unverified: false },
  ]);
});
