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
  assert.equal(registryBaseUrl("docker.io"), "https://registry-1.docker.io");
  assert.equal(registryBaseUrl("127.0.0.1:5000"), "http://127.0.0.1:5000");
  assert.equal(registryBaseUrl("ghcr.io"), "https://ghcr.io");
});

interface Call {
  url: string;
  authorization: string | undefined;
}

/** A fetch answering from a table of handlers keyed by URL, recording each call. */
function fakeFetch(calls: Call[], handler: (url: URL, auth: string | undefined) => Response) {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    const authorization = headers.get("authorization") ?? undefined;
    calls.push({ url: url.href, authorization });
    return handler(url, authorization);
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
