// `docker pull` for the image store: resolves a reference to this platform's manifest,
// fetches and verifies the config, then downloads the layers the store lacks, up to 3 at a
// time, each streamed straight into the layer unpacker (no compressed copy on disk) while
// its digest is computed. Nothing is registered unless every blob verified and every layer
// unpacked to the diff_id its config names; then addImages registers the image in one step.
// Any failure removes the pull's work area, so no temp files stay behind.
import { createHash } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { digestHex, isDigest, sha256, type Digest } from "../digest.js";
import { ImageError, messageOf } from "../errors.js";
import { MAX_JSON_BYTES } from "../fsutil.js";
import { familiarName, familiarString, parseReference, type Reference } from "../reference.js";
import {
  ImageConfigSchema,
  IndexSchema,
  ManifestSchema,
  MEDIA_TYPES,
  parseJson,
  type Descriptor,
  type ImageConfig,
} from "../schema.js";
import type { ImageStore, StagedLayer } from "../store.js";
import { unpackLayer, type UnpackResult } from "../unpack.js";
import { TAR_SPLIT_FILE } from "../tar-split.js";
import { linkedAbort, RegistryClient, type Credentials } from "./client.js";
import { hostPlatform, pickPlatform, type Platform } from "../platform.js";

/** Default cap on a manifest or image index: 4 MiB (distribution's own limit). */
export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Layers downloaded (and unpacked) at once by default. */
export const DEFAULT_PULL_CONCURRENCY = 3;

export interface PullProgress {
  type: "layer";
  /** the layer blob's digest (compressed, as the manifest lists it) */
  digest: Digest;
  /** the layer's diff_id (uncompressed) */
  diffId: Digest;
  /** exists: already in the store, not downloaded; downloading: bytes so far; done: unpacked */
  status: "exists" | "downloading" | "done";
  /** blob bytes downloaded so far */
  bytes: number;
  /** the blob's size from the manifest */
  total: number;
}

export interface PullOptions {
  credentials?: Credentials;
  /** registries (`host`, `host:port` or CIDR) spoken to over plain HTTP; loopback always is */
  insecureRegistries?: readonly string[];
  /** a mirror's base URL to pull from instead of the registry itself (see mirrors.ts) */
  endpoint?: string;
  onProgress?: (event: PullProgress) => void;
  /** the platform picked from an image index (default linux and this host's architecture) */
  platform?: Platform;
  /** layers downloaded at once (default 3) */
  concurrency?: number;
  maxManifestBytes?: number;
  /** cap on each layer's uncompressed size (default: unpackLayer's, 16 GiB) */
  maxLayerBytes?: number;
  /** told of layer entries left out while unpacking (see UnpackOptions.onNote) */
  onNote?: (note: string) => void;
  signal?: AbortSignal;
  /** the fetch to use (tests) */
  fetch?: typeof fetch;
}

export interface PullResult {
  /** the image id: sha256 of its config */
  id: Digest;
  repoTags: string[];
  repoDigests: string[];
  /** digest of what the reference resolved to (an index for multi-platform images) */
  digest: Digest;
  /** digest of the platform manifest that was pulled */
  manifestDigest: Digest;
  /** whether the reference names another image than before (Docker's "Downloaded newer image") */
  updated: boolean;
}

const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]);
const MANIFEST_TYPES = new Set<string>([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);
const ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
];
const V1_TYPES = new Set([
  "application/vnd.docker.distribution.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
]);
/** Byte counts are reported at most this often per layer: smooth bars, few events. */
const PROGRESS_INTERVAL_MS = 100;

function refuse(message: string): never {
  throw new ImageError("refused", message);
}

/** The media type of a manifest document: its own field, else the Content-Type header. */
function mediaTypeOf(bytes: Buffer, header: string, what: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString());
  } catch (err) {
    refuse(`${what} is not valid JSON: ${messageOf(err)}`);
  }
  const own =
    parsed !== null && typeof parsed === "object" && "mediaType" in parsed
      ? (parsed as { mediaType?: unknown }).mediaType
      : undefined;
  if (typeof own === "string" && own !== "") return own;
  if (parsed !== null && typeof parsed === "object" && "manifests" in parsed) {
    return MEDIA_TYPES.ociIndex;
  }
  if (parsed !== null && typeof parsed === "object" && "config" in parsed) {
    return MEDIA_TYPES.ociManifest;
  }
  return header;
}

interface Resolved {
  /** what the reference points at */
  topDigest: Digest;
  manifestDigest: Digest;
  manifestBytes: Buffer;
}

async function fetchManifest(
  client: RegistryClient,
  reference: string,
  expected: Descriptor | Digest | undefined,
  maxBytes: number,
): Promise<{ bytes: Buffer; digest: Digest; mediaType: string }> {
  const { bytes, mediaType, digestHeader } = await client.getManifest(reference, ACCEPT, maxBytes);
  const digest = sha256(bytes);
  const what = `manifest ${client.registry}/${client.repository}${isDigest(reference) ? "@" : ":"}${reference}`;
  const want = typeof expected === "object" ? expected.digest : expected;
  if (want !== undefined && digest !== want) {
    refuse(`${what} does not match its digest: expected ${want}, got ${digest}`);
  }
  if (typeof expected === "object" && expected.size !== bytes.length) {
    refuse(`${what} is ${bytes.length} bytes, its descriptor says ${expected.size}`);
  }
  if (digestHeader !== undefined && isDigest(digestHeader) && digestHeader !== digest) {
    refuse(`${what} does not match the Docker-Content-Digest the registry sent (${digestHeader})`);
  }
  return { bytes, digest, mediaType: mediaTypeOf(bytes, mediaType, what) };
}

async function resolve(
  client: RegistryClient,
  ref: Reference,
  platform: Platform,
  maxBytes: number,
): Promise<Resolved> {
  const top = await fetchManifest(client, ref.digest ?? ref.tag ?? "latest", ref.digest, maxBytes);
  let current = top;
  for (let depth = 0; ; depth++) {
    if (MANIFEST_TYPES.has(current.mediaType)) {
      return {
        topDigest: top.digest,
        manifestDigest: current.digest,
        manifestBytes: current.bytes,
      };
    }
    if (V1_TYPES.has(current.mediaType)) {
      refuse(
        `${familiarName(ref)} uses the deprecated Docker image manifest v1 (schema 1), which is not supported`,
      );
    }
    if (!INDEX_TYPES.has(current.mediaType)) {
      refuse(
        `manifest ${current.digest} has unsupported media type ${JSON.stringify(current.mediaType)}`,
      );
    }
    if (depth >= 3) refuse(`image index ${top.digest} nests more than 3 levels deep`);
    const index = parseJson(IndexSchema, current.bytes, `image index ${current.digest}`);
    const { match, offered } = pickPlatform(
      index.manifests,
      platform,
      (m) => MANIFEST_TYPES.has(m.mediaType) || INDEX_TYPES.has(m.mediaType),
    );
    if (match === undefined) {
      refuse(
        `${familiarName(ref)} has no ${platform.os}/${platform.architecture} image (it has: ${offered})`,
      );
    }
    current = await fetchManifest(client, match.digest, match, maxBytes);
  }
}

/** Reads a small blob (a config) fully, verifying size and digest. */
async function fetchSmallBlob(
  client: RegistryClient,
  descriptor: Descriptor,
  what: string,
): Promise<Buffer> {
  if (descriptor.size > MAX_JSON_BYTES) {
    refuse(
      `${what} ${descriptor.digest} is ${descriptor.size} bytes, more than the limit of ${MAX_JSON_BYTES}`,
    );
  }
  const { body } = await client.getBlob(descriptor.digest);
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    length += chunk.length;
    if (length > descriptor.size)
      refuse(`${what} ${descriptor.digest} is larger than its descriptor says`);
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  const digest = sha256(bytes);
  if (digest !== descriptor.digest) {
    refuse(`${what} does not match its digest: expected ${descriptor.digest}, got ${digest}`);
  }
  if (bytes.length !== descriptor.size) {
    refuse(
      `${what} ${descriptor.digest} is ${bytes.length} bytes, its descriptor says ${descriptor.size}`,
    );
  }
  return bytes;
}

interface LayerJob {
  descriptor: Descriptor;
  diffId: Digest;
}

/** Runs `fn` over `items`, at most `limit` at once; the first failure stops new starts. */
export async function runLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
  onFail: () => void,
): Promise<void> {
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        if (!failed) {
          firstError = err;
          failed = true;
          onFail();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw firstError;
}

/**
 * Pulls `reference` (Docker's forms: `busybox`, `host:port/repo:tag`, `repo@sha256:...`) from
 * its registry into `store`. Resolves with the registered image; throws an ImageError with a
 * one-line message, having registered nothing, on any failure.
 */
export async function pullImage(
  store: ImageStore,
  reference: string | Reference,
  options: PullOptions = {},
): Promise<PullResult> {
  const ref = typeof reference === "string" ? parseReference(reference) : reference;
  const concurrency = options.concurrency ?? DEFAULT_PULL_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
    throw new ImageError(
      "invalid",
      `concurrency must be an integer from 1 to 32, got ${concurrency}`,
    );
  }
  const maxManifestBytes = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  if (!Number.isSafeInteger(maxManifestBytes) || maxManifestBytes <= 0) {
    throw new ImageError("invalid", `maxManifestBytes must be a positive integer`);
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
    throw new ImageError("invalid", "onProgress must be a function");
  }
  const progress = options.onProgress ?? (() => undefined);
  const platform = options.platform ?? hostPlatform();

  // Aborts the downloads still running once one layer failed (or the caller aborts).
  const { abort, unlink } = linkedAbort(options.signal);
  const client = new RegistryClient({
    registry: ref.registry,
    repository: ref.repository,
    endpoint: options.endpoint,
    credentials: options.credentials,
    insecureRegistries: options.insecureRegistries,
    signal: abort.signal,
    fetch: options.fetch,
  });

  const lease = store.lease();
  let tmp: string | undefined;
  try {
    const resolved = await resolve(client, ref, platform, maxManifestBytes);
    const what = `manifest ${resolved.manifestDigest}`;
    const manifest = parseJson(ManifestSchema, resolved.manifestBytes, what);
    const configBytes = await fetchSmallBlob(client, manifest.config, "image config");
    const config: ImageConfig = parseJson(
      ImageConfigSchema,
      configBytes,
      `image config ${manifest.config.digest}`,
    );
    if (config.os !== "linux")
      refuse(`image config is for os ${JSON.stringify(config.os)}, not linux`);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      refuse(
        `${what} lists ${manifest.layers.length} layers but its config has ${diffIds.length} diff_ids`,
      );
    }

    const jobs: LayerJob[] = [];
    const planned = new Set<Digest>();
    for (const [i, descriptor] of manifest.layers.entries()) {
      const diffId = diffIds[i] as Digest;
      if (/zstd/.test(descriptor.mediaType)) {
        refuse(
          `layer ${descriptor.digest} is zstd-compressed; only uncompressed and gzip layers are supported`,
        );
      }
      if (/foreign|nondistributable/.test(descriptor.mediaType)) {
        refuse(
          `layer ${descriptor.digest} is a foreign (non-distributable) layer, which is not supported`,
        );
      }
      lease.holdLayer(diffId);
      if (planned.has(diffId)) continue;
      planned.add(diffId);
      if (await store.hasLayer(diffId)) {
        progress({
          type: "layer",
          digest: descriptor.digest,
          diffId,
          status: "exists",
          bytes: 0,
          total: descriptor.size,
        });
        continue;
      }
      jobs.push({ descriptor, diffId });
    }

    const work = await store.createTempDir("pull");
    tmp = work;
    const staged: StagedLayer[] = [];
    let n = 0;
    await runLimited(
      jobs,
      concurrency,
      async ({ descriptor, diffId }) => {
        const dir = join(work, `layer-${n++}`);
        await mkdir(dir);
        const total = descriptor.size;
        const emit = (status: PullProgress["status"], bytes: number): void =>
          progress({ type: "layer", digest: descriptor.digest, diffId, status, bytes, total });
        emit("downloading", 0);
        const { body, length } = await client.getBlob(descriptor.digest);
        if (length !== undefined && length !== total) {
          refuse(`layer ${descriptor.digest} is ${length} bytes, its descriptor says ${total}`);
        }
        // The body is read through `next` so that it outlives the unpacker: when unpacking
        // fails, the rest is read to tell a corrupt download (digest mismatch, the real
        // cause) from a hostile but intact layer.
        const source = body[Symbol.asyncIterator]();
        const hash = createHash("sha256");
        let bytes = 0;
        let reportedAt = performance.now();
        let ended = false;
        const next = async (): Promise<Buffer | undefined> => {
          const step = await source.next();
          if (step.done === true) {
            ended = true;
            return undefined;
          }
          bytes += step.value.length;
          if (bytes > total) {
            refuse(
              `layer ${descriptor.digest} is larger than its descriptor says (${total} bytes)`,
            );
          }
          hash.update(step.value);
          if (performance.now() - reportedAt >= PROGRESS_INTERVAL_MS) {
            reportedAt = performance.now();
            emit("downloading", bytes);
          }
          return step.value;
        };
        async function* metered(): AsyncGenerator<Buffer> {
          for (let chunk = await next(); chunk !== undefined; chunk = await next()) yield chunk;
        }
        /** Reads what is left and checks the blob's size and digest. */
        const verify = async (): Promise<void> => {
          while (!ended) await next();
          const got: Digest = `sha256:${hash.digest("hex")}`;
          if (got !== descriptor.digest) {
            refuse(
              `layer blob does not match its digest: expected ${descriptor.digest}, got ${got}`,
            );
          }
          if (bytes !== total) {
            refuse(`layer ${descriptor.digest} is ${bytes} bytes, its descriptor says ${total}`);
          }
        };
        let result: UnpackResult;
        try {
          try {
            result = await unpackLayer(metered(), join(dir, "fs"), {
              maxBytes: options.maxLayerBytes,
              tarSplitPath: join(dir, TAR_SPLIT_FILE),
              onNote: options.onNote,
            });
          } catch (err) {
            if (!abort.signal.aborted) {
              const blobError = await verify().then(
                () => undefined,
                (e: unknown) => (e instanceof ImageError ? e : undefined),
              );
              if (blobError !== undefined) throw blobError;
            }
            const code = err instanceof ImageError ? err.code : "refused";
            throw new ImageError(
              code,
              `layer ${digestHex(descriptor.digest).slice(0, 12)}: ${messageOf(err)}`,
            );
          }
          await verify();
        } finally {
          await source.return?.();
        }
        if (result.diffId !== diffId) {
          refuse(
            `layer ${descriptor.digest} unpacks to diff_id ${result.diffId} but the image config says ${diffId}`,
          );
        }
        staged.push({ diffId, dir, size: result.size, tarSize: result.tarSize });
        emit("done", bytes);
      },
      () => abort.abort(),
    );

    const before = await store
      .resolve(familiarString(ref))
      .then((i) => i.id)
      .catch(() => undefined);
    const references: Reference[] = [];
    if (ref.digest === undefined) references.push({ ...ref, digest: undefined });
    references.push(parseReference(`${familiarName(ref)}@${resolved.topDigest}`));
    const [image] = await store.addImages(
      [{ configBytes, manifests: [resolved.manifestBytes], references }],
      staged,
    );
    if (image === undefined) throw new ImageError("refused", "the store registered no image");
    return {
      id: image.id,
      repoTags: image.repoTags,
      repoDigests: image.repoDigests,
      digest: resolved.topDigest,
      manifestDigest: resolved.manifestDigest,
      updated: before !== image.id,
    };
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw new ImageError("refused", `pull ${familiarName(ref)}: ${messageOf(err)}`);
  } finally {
    unlink();
    lease.release();
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  }
}
