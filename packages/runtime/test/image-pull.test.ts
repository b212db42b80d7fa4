// Pulls from a real registry (Debian's docker-registry on 127.0.0.1) into a store: images
// pushed there by skopeo in OCI, Docker v2 schema 2 and uncompressed forms, an image index,
// a corrupted blob, a token-auth proxy of our own with a redirecting "CDN". Needs root (the
// unpacker makes whiteout devices) and /usr/bin/docker-registry + skopeo.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, open, readFile, readdir, rm, stat } from "node:fs/promises";
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { ImageStore } from "../src/image/index.js";
import { pullImage, type PullProgress } from "../src/image/registry/index.js";
import { buildTestImages, type TestImages } from "./fixtures/images.js";
import { pushRaw, pushWithSkopeo, startRegistry, type TestRegistry } from "./fixtures/registry.js";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";

let work: string;
let images: TestImages;
let registry: TestRegistry;
let plain: { layerDigests: string[] };
const servers: Server[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), "corral-image-pull-"));
  images = await buildTestImages(join(work, "fixtures"));
  registry = await startRegistry();
  const layout = `oci:${images.layoutDir}:latest`;
  await pushWithSkopeo(layout, `${registry.host}/corral/busybox:latest`);
  await pushWithSkopeo(layout, `${registry.host}/corral/busybox-v2s2:latest`, ["--format", "v2s2"]);
  plain = await pushPlain("corral/busybox-plain");
});

interface LayoutImage {
  config: Buffer;
  /** the layers as the layout has them (gzip) */
  layers: Buffer[];
}

async function readLayout(): Promise<LayoutImage> {
  const blob = (digest: string): Promise<Buffer> =>
    readFile(join(images.layoutDir, "blobs/sha256", digest.slice("sha256:".length)));
  const manifest = JSON.parse((await blob(images.manifestDigest)).toString()) as {
    config: { digest: string };
    layers: Array<{ digest: string }>;
  };
  return {
    config: await blob(manifest.config.digest),
    layers: await Promise.all(manifest.layers.map((l) => blob(l.digest))),
  };
}

/** The fixture image with uncompressed layers, pushed with the registry API. */
async function pushPlain(repo: string): Promise<{ layerDigests: string[] }> {
  const { config, layers } = await readLayout();
  return pushRaw(
    registry.host,
    repo,
    "latest",
    config,
    layers.map((gz) => ({
      data: gunzipSync(gz),
      mediaType: "application/vnd.oci.image.layer.v1.tar",
    })),
  );
}

after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await registry?.stop();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

async function newStore(name: string): Promise<ImageStore> {
  const root = join(work, "stores", name);
  await mkdir(root, { recursive: true });
  return new ImageStore(root);
}

/** The store's work area holds nothing once a pull returned (or failed). */
async function assertNoTemp(store: ImageStore): Promise<void> {
  const left = await readdir(join(store.dir, "tmp")).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [];
    throw err;
  });
  assert.deepEqual(left, []);
}

/** A fetch that records the URLs it was asked for. */
function recordingFetch(urls: string[]): typeof fetch {
  return (input, init) => {
    urls.push(String(input));
    return fetch(input, init);
  };
}

async function manifestOf(
  host: string,
  repo: string,
  tag: string,
  accept = [OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX].join(", "),
): Promise<{
  digest: string;
  mediaType: string;
  json: { layers: Array<Record<string, unknown>> };
}> {
  const response = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    headers: { accept },
  });
  assert.equal(response.status, 200);
  return {
    digest: response.headers.get("docker-content-digest") ?? "",
    mediaType: response.headers.get("content-type") ?? "",
    json: (await response.json()) as { layers: Array<Record<string, unknown>> },
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Checks the pulled image's layers: busybox in the bottom one, layer 2's whiteout on top. */
async function assertLayers(store: ImageStore, id: string): Promise<void> {
  const dirs = await store.layerDirs(id);
  assert.equal(dirs.length, 2);
  const [top, bottom] = dirs as [string, string];
  assert.ok((await stat(join(bottom, "bin/busybox"))).isFile());
  assert.ok(await exists(join(bottom, "etc/gone")));
  const whiteout = await stat(join(top, "etc/gone"));
  assert.ok(whiteout.isCharacterDevice());
  assert.equal(whiteout.rdev, 0);
}

test("an OCI image pulls anonymously, verified, with progress per layer", async () => {
  const store = await newStore("oci");
  const events: PullProgress[] = [];
  const ref = `${registry.host}/corral/busybox:latest`;
  const result = await pullImage(store, ref, { onProgress: (e) => events.push(e) });
  const remote = await manifestOf(registry.host, "corral/busybox", "latest");
  assert.equal(remote.mediaType, OCI_MANIFEST);
  assert.equal(result.id, images.imageId);
  assert.equal(result.digest, remote.digest);
  assert.equal(result.manifestDigest, remote.digest);
  assert.deepEqual(result.repoTags, [ref]);
  assert.deepEqual(result.repoDigests, [`${registry.host}/corral/busybox@${remote.digest}`]);
  await assertLayers(store, result.id);

  const image = await store.resolve(ref);
  assert.deepEqual(image.diffIds, images.diffIds);
  assert.deepEqual(image.manifestDigests, [remote.digest]);
  assert.equal(
    (await store.resolve(`${registry.host}/corral/busybox@${remote.digest}`)).id,
    result.id,
  );

  const layerDigests = remote.json.layers.map((l) => l.digest as string);
  for (const [i, digest] of layerDigests.entries()) {
    const mine = events.filter((e) => e.digest === digest);
    assert.equal(mine[0]?.status, "downloading");
    assert.equal(mine[0]?.bytes, 0);
    const done = mine.at(-1);
    assert.equal(done?.status, "done");
    assert.equal(done?.diffId, images.diffIds[i]);
    assert.equal(done?.bytes, remote.json.layers[i]?.size);
    assert.equal(done?.total, remote.json.layers[i]?.size);
  }
  await assertNoTemp(store);
});

test("pulling again downloads no layer: progress says exists", async () => {
  const store = await newStore("again");
  const ref = `${registry.host}/corral/busybox:latest`;
  const first = await pullImage(store, ref);
  const events: PullProgress[] = [];
  const urls: string[] = [];
  const second = await pullImage(store, ref, {
    onProgress: (e) => events.push(e),
    fetch: recordingFetch(urls),
  });
  assert.equal(second.id, first.id);
  assert.deepEqual(
    events.map((e) => [e.diffId, e.status]),
    images.diffIds.map((d) => [d, "exists"]),
  );
  // The manifest and the config only: no layer blob.
  const blobs = urls.filter((u) => u.includes("/blobs/"));
  assert.deepEqual(blobs, [`http://${registry.host}/v2/corral/busybox/blobs/${images.imageId}`]);
  await assertNoTemp(store);
});

test("a pull by digest records the digest and no tag", async () => {
  const store = await newStore("digest");
  const remote = await manifestOf(registry.host, "corral/busybox", "latest");
  const ref = `${registry.host}/corral/busybox@${remote.digest}`;
  const result = await pullImage(store, ref);
  assert.equal(result.id, images.imageId);
  assert.deepEqual(result.repoTags, []);
  assert.deepEqual(result.repoDigests, [ref]);
});

test("a Docker v2 schema 2 image pulls", async () => {
  const store = await newStore("v2s2");
  const ref = `${registry.host}/corral/busybox-v2s2:latest`;
  const remote = await manifestOf(registry.host, "corral/busybox-v2s2", "latest");
  assert.equal(remote.mediaType, DOCKER_MANIFEST);
  const result = await pullImage(store, ref);
  assert.equal(result.manifestDigest, remote.digest);
  assert.deepEqual(result.repoTags, [ref]);
  assert.deepEqual((await store.resolve(ref)).diffIds, images.diffIds);
  await assertLayers(store, result.id);
  await assertNoTemp(store);
});

test("an image with uncompressed layers pulls", async () => {
  const store = await newStore("plain");
  const remote = await manifestOf(registry.host, "corral/busybox-plain", "latest");
  for (const layer of remote.json.layers) {
    assert.equal(layer.mediaType, "application/vnd.oci.image.layer.v1.tar");
  }
  const result = await pullImage(store, `${registry.host}/corral/busybox-plain`);
  assert.equal(result.id, images.imageId);
  await assertLayers(store, result.id);
});

test("an image index resolves to this platform's manifest", async () => {
  const store = await newStore("index");
  const repo = "corral/multi";
  const layout = `oci:${images.layoutDir}:latest`;
  await pushWithSkopeo(layout, `${registry.host}/${repo}:oci`);
  await pushWithSkopeo(layout, `${registry.host}/${repo}:v2s2`, ["--format", "v2s2"]);
  const oci = await manifestOf(registry.host, repo, "oci");
  const v2s2 = await manifestOf(registry.host, repo, "v2s2");
  const size = async (digest: string): Promise<number> =>
    Number(
      (
        await fetch(`http://${registry.host}/v2/${repo}/manifests/${digest}`, {
          method: "HEAD",
          headers: { accept: [OCI_MANIFEST, DOCKER_MANIFEST].join(", ") },
        })
      ).headers.get("content-length"),
    );
  const arch = process.arch === "arm64" ? "arm64" : "amd64";
  const other = arch === "arm64" ? "amd64" : "arm64";
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {
          mediaType: DOCKER_MANIFEST,
          digest: v2s2.digest,
          size: await size(v2s2.digest),
          platform: { os: "linux", architecture: other },
        },
        {
          mediaType: OCI_MANIFEST,
          digest: oci.digest,
          size: await size(oci.digest),
          platform: { os: "linux", architecture: arch },
        },
      ],
    }),
  );
  const put = await fetch(`http://${registry.host}/v2/${repo}/manifests/latest`, {
    method: "PUT",
    headers: { "content-type": OCI_INDEX },
    body: index,
  });
  assert.equal(put.status, 201, await put.text());
  const indexDigest = put.headers.get("docker-content-digest") ?? "";

  const result = await pullImage(store, `${registry.host}/${repo}`);
  assert.equal(result.digest, indexDigest);
  assert.equal(result.manifestDigest, oci.digest);
  assert.equal(result.id, images.imageId);
  assert.deepEqual(result.repoDigests, [`${registry.host}/${repo}@${indexDigest}`]);

  await assert.rejects(
    pullImage(await newStore("index-s390x"), `${registry.host}/${repo}`, {
      platform: { os: "linux", architecture: "s390x" },
    }),
    /has no linux\/s390x image \(it has: linux\/(amd64|arm64), linux\/(amd64|arm64)\)/,
  );
});

/** Flips bytes in the middle of a blob in the registry's storage (size unchanged). */
async function corrupt(digest: string): Promise<void> {
  const path = registry.blobPath(digest);
  const { size } = await stat(path);
  const handle = await open(path, "r+");
  try {
    const buf = Buffer.alloc(16);
    await handle.read(buf, 0, 16, Math.floor(size / 2));
    for (let i = 0; i < buf.length; i++) buf[i] = (buf[i] ?? 0) ^ 0xff;
    await handle.write(buf, 0, 16, Math.floor(size / 2));
  } finally {
    await handle.close();
  }
}

async function assertRefusedCleanly(store: ImageStore, ref: string, message: RegExp) {
  await assert.rejects(pullImage(store, ref), (err: Error) => {
    assert.match(err.message, message);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
  assert.deepEqual(await store.list(), []);
  for (const diffId of images.diffIds) {
    assert.equal(await store.hasLayer(diffId as `sha256:${string}`), false);
  }
  await assertNoTemp(store);
  assert.deepEqual(await readdir(join(store.dir, "layers")), []);
}

test("a corrupted blob in the registry is refused and nothing is registered", async () => {
  // The registry shares blobs between repositories: the bytes are flipped back afterwards.
  // Uncompressed: the tar stays valid, only the digest check can catch the change.
  const [big] = plain.layerDigests;
  await corrupt(String(big));
  try {
    await assertRefusedCleanly(
      await newStore("corrupt-plain"),
      `${registry.host}/corral/busybox-plain`,
      /^layer blob does not match its digest: expected sha256:[a-f0-9]{64}, got sha256:/,
    );
  } finally {
    await corrupt(String(big));
  }
  // gzip: the damage breaks decompression first, yet the digest is what gets reported.
  const remote = await manifestOf(registry.host, "corral/busybox", "latest");
  const gz = String(remote.json.layers[0]?.digest);
  await corrupt(gz);
  try {
    await assertRefusedCleanly(
      await newStore("corrupt-gzip"),
      `${registry.host}/corral/busybox`,
      /^layer blob does not match its digest/,
    );
  } finally {
    await corrupt(gz);
  }
});

test("layers that do not match the config's diff_ids are refused", async () => {
  const { config, layers } = await readLayout();
  await pushRaw(registry.host, "corral/swapped", "latest", config, [
    { data: layers[1] as Buffer, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" },
    { data: layers[0] as Buffer, mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" },
  ]);
  await assertRefusedCleanly(
    await newStore("swapped"),
    `${registry.host}/corral/swapped`,
    /unpacks to diff_id sha256:[a-f0-9]{64} but the image config says sha256:/,
  );
});

test("a manifest over the size cap is refused", async () => {
  const store = await newStore("cap");
  await assert.rejects(
    pullImage(store, `${registry.host}/corral/busybox`, { maxManifestBytes: 100 }),
    /^ImageError: manifest for 127\.0\.0\.1:\d+\/corral\/busybox:latest is \d+ bytes, more than the limit of 100$/,
  );
  assert.deepEqual(await store.list(), []);
});

test("a corrupted image config is refused", async () => {
  const repo = "corral/corrupt-config";
  await pushWithSkopeo(`oci:${images.layoutDir}:latest`, `${registry.host}/${repo}:latest`);
  const store = await newStore("corrupt-config");
  await corrupt(images.imageId);
  try {
    await assert.rejects(
      pullImage(store, `${registry.host}/${repo}`),
      /image config does not match its digest/,
    );
    assert.deepEqual(await store.list(), []);
    await assertNoTemp(store);
  } finally {
    await corrupt(images.imageId);
  }
});

test("an unknown tag or repository is a one-line not-found error", async () => {
  const store = await newStore("unknown");
  await assert.rejects(pullImage(store, `${registry.host}/corral/busybox:nope`), (err: Error) => {
    assert.match(
      err.message,
      /^manifest for 127\.0\.0\.1:\d+\/corral\/busybox:nope not found: manifest unknown/,
    );
    assert.doesNotMatch(err.message, /\n/);
    assert.equal((err as { code?: string }).code, "not-found");
    return true;
  });
  await assert.rejects(pullImage(store, `${registry.host}/corral/nothing-here`), /not found/);
  await assertNoTemp(store);
});

test("an unreachable registry is a one-line error", async () => {
  const store = await newStore("unreachable");
  await assert.rejects(pullImage(store, "127.0.0.1:1/corral/busybox"), (err: Error) => {
    assert.match(err.message, /^cannot reach http:\/\/127\.0\.0\.1:1: /);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
});

// ---- token auth ---------------------------------------------------------------------------

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return typeof address === "object" && address !== null ? address.port : 0;
}

function proxy(req: IncomingMessage, res: import("node:http").ServerResponse): void {
  const upstream = request(
    {
      host: "127.0.0.1",
      port: registry.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, host: registry.host, authorization: "" },
    },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on("error", () => res.destroy());
  req.pipe(upstream);
}

interface AuthFront {
  host: string;
  tokenRequests: Array<{ authorization: string | undefined; query: string }>;
  cdnAuthorization: Array<string | undefined>;
}

/**
 * A registry front of our own: /token issues a token for user:secret (Basic auth); /v2/...
 * answers 401 with a Bearer challenge unless the request carries that token, and redirects
 * blob downloads to a "CDN" on another origin, which records the Authorization it got.
 */
async function startAuthFront(): Promise<AuthFront> {
  const token = randomBytes(16).toString("hex");
  const front: AuthFront = { host: "", tokenRequests: [], cdnAuthorization: [] };
  const cdnPort = await listen(
    createServer((req, res) => {
      front.cdnAuthorization.push(req.headers.authorization);
      proxy(req, res);
    }),
  );
  const port = await listen(
    createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname === "/token") {
        front.tokenRequests.push({ authorization: req.headers.authorization, query: url.search });
        const good = `Basic ${Buffer.from("user:secret").toString("base64")}`;
        if (req.headers.authorization !== good) {
          res.writeHead(401, { "content-type": "application/json" });
          res.end('{"details":"incorrect username or password"}');
          return;
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ token, expires_in: 300 }));
        return;
      }
      if (req.headers.authorization !== `Bearer ${token}`) {
        const repo = /^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(url.pathname)?.[1] ?? "";
        res.writeHead(401, {
          "content-type": "application/json",
          "www-authenticate": `Bearer realm="http://127.0.0.1:${port}/token",service="corral-test",scope="repository:${repo}:pull"`,
        });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
      if (url.pathname.includes("/blobs/")) {
        res.writeHead(307, { location: `http://127.0.0.1:${cdnPort}${req.url ?? ""}` });
        res.end();
        return;
      }
      proxy(req, res);
    }),
  );
  front.host = `127.0.0.1:${port}`;
  return front;
}

test("the Bearer token flow works and credentials never reach a redirect's origin", async () => {
  const front = await startAuthFront();
  const store = await newStore("token");
  const ref = `${front.host}/corral/busybox:latest`;
  const result = await pullImage(store, ref, {
    credentials: { username: "user", password: "secret" },
  });
  assert.equal(result.id, images.imageId);
  assert.deepEqual(result.repoTags, [ref]);
  await assertLayers(store, result.id);

  // One token for the whole pull, asked for with the challenge's service and scope.
  assert.equal(front.tokenRequests.length, 1);
  const query = new URLSearchParams(front.tokenRequests[0]?.query);
  assert.equal(query.get("service"), "corral-test");
  assert.equal(query.get("scope"), "repository:corral/busybox:pull");
  // Config + 2 layers came from the CDN, none of them with the registry's credentials.
  assert.equal(front.cdnAuthorization.length, 3);
  assert.deepEqual(front.cdnAuthorization, [undefined, undefined, undefined]);
  await assertNoTemp(store);
});

test("a wrong password or no credentials is a one-line unauthorized error", async () => {
  const front = await startAuthFront();
  const store = await newStore("token-wrong");
  const ref = `${front.host}/corral/busybox:latest`;
  await assert.rejects(
    pullImage(store, ref, { credentials: { username: "user", password: "wrong" } }),
    (err: Error) => {
      assert.equal(
        err.message,
        `unauthorized: authentication to ${front.host} failed: wrong username or password`,
      );
      return true;
    },
  );
  await assert.rejects(
    pullImage(store, ref),
    /^ImageError: unauthorized: .* requires authentication/,
  );
  assert.deepEqual(await store.list(), []);
  await assertNoTemp(store);
});
