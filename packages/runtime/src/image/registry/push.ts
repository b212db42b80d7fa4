// `docker push` for the image store: compresses each layer of a local image into a gzip blob
// (its exact tar, rebuilt by the store: layer-blob.ts), uploads the blobs the registry lacks
// (HEAD, then POST + one PUT each, up to 3 at a time), then the config, byte for byte, and a
// manifest (Docker v2 schema 2 when the image came with one, else OCI). The image keeps its id,
// and the local image records the pushed manifest (RepoDigests), as Docker does.
import { createReadStream } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { sha256, type Digest } from "../digest.js";
import { ImageError, messageOf } from "../errors.js";
import { familiarName, familiarString, parseReference, parseTagReference } from "../reference.js";
import { MEDIA_TYPES } from "../schema.js";
import type { ImageStore } from "../store.js";
import { linkedAbort, RegistryClient, type Credentials } from "./client.js";
import { writeLayerBlob, type LayerBlob } from "./layer-blob.js";
import { DEFAULT_PULL_CONCURRENCY, runLimited } from "./pull.js";

export interface PushProgress {
  type: "layer";
  /** the gzip blob's digest; "" while preparing (packing) */
  digest: string;
  /** the local layer's diff_id */
  diffId: Digest;
  /** preparing: being packed; exists: the registry has it; pushing: bytes so far; done */
  status: "preparing" | "exists" | "pushing" | "done";
  bytes: number;
  total: number;
}

export interface PushOptions {
  credentials?: Credentials;
  /** registries (`host`, `host:port` or CIDR) spoken to over plain HTTP; loopback always is */
  insecureRegistries?: readonly string[];
  onProgress?: (event: PushProgress) => void;
  /** blobs uploaded at once (default 3) */
  concurrency?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export interface PushResult {
  /** `host:port/repo` as Docker prints it */
  repository: string;
  tag: string;
  /** digest of the manifest pushed */
  digest: Digest;
  /** bytes of the manifest pushed */
  size: number;
  /** digest of the config pushed: the image id, here and after a pull */
  configDigest: Digest;
}

const PROGRESS_STEP = 256 * 1024;

const FORMATS = {
  docker: {
    manifest: MEDIA_TYPES.dockerManifest,
    config: "application/vnd.docker.container.image.v1+json",
    layer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  },
  oci: {
    manifest: MEDIA_TYPES.ociManifest,
    config: "application/vnd.oci.image.config.v1+json",
    layer: "application/vnd.oci.image.layer.v1.tar+gzip",
  },
} as const;

/** Docker's v2s2 when a manifest the image came with was one, else OCI. */
async function formatOf(
  store: ImageStore,
  manifestDigests: readonly Digest[],
): Promise<keyof typeof FORMATS> {
  for (const digest of manifestDigests) {
    try {
      const parsed = JSON.parse((await store.readBlob(digest)).toString()) as {
        mediaType?: unknown;
      };
      if (parsed.mediaType === MEDIA_TYPES.dockerManifest) return "docker";
    } catch {
      // a missing or unreadable manifest says nothing about the format
    }
  }
  return "oci";
}

/**
 * Pushes the local image `reference` (`host:port/repo:tag`; the tag defaults to latest) to
 * its registry. Throws an ImageError with a one-line message on any failure.
 */
export async function pushImage(
  store: ImageStore,
  reference: string,
  options: PushOptions = {},
): Promise<PushResult> {
  const ref = parseTagReference(reference);
  const name = familiarString(ref);
  const progress = options.onProgress ?? (() => undefined);
  const concurrency = options.concurrency ?? DEFAULT_PULL_CONCURRENCY;
  let image;
  try {
    image = await store.resolve(name);
  } catch (err) {
    if (err instanceof ImageError && err.code === "not-found") {
      throw new ImageError("not-found", `An image does not exist locally with the tag: ${name}`);
    }
    throw err;
  }

  const { abort, unlink } = linkedAbort(options.signal);
  const client = new RegistryClient({
    registry: ref.registry,
    repository: ref.repository,
    credentials: options.credentials,
    insecureRegistries: options.insecureRegistries,
    signal: abort.signal,
    fetch: options.fetch,
  });

  const lease = store.lease();
  let work: string | undefined;
  try {
    for (const diffId of image.diffIds) lease.holdLayer(diffId);
    const configBytes = await store.readBlob(image.id);
    const format = FORMATS[await formatOf(store, image.manifestDigests)];
    work = await store.createTempDir("push");
    const dir = work;
    const configDigest = sha256(configBytes);

    // Each layer packed once, even when two layers are the same, and inside the workers: the
    // first HEAD does not wait for every layer to be compressed.
    const diffIds = [...new Set(image.diffIds)];
    for (const diffId of diffIds) {
      progress({ type: "layer", digest: "", diffId, status: "preparing", bytes: 0, total: 0 });
    }
    const packed = new Map<Digest, LayerBlob>();
    await runLimited(
      diffIds.map((diffId, i) => ({ diffId, file: join(dir, `layer-${i}.tar.gz`) })),
      concurrency,
      async ({ diffId, file }) => {
        const layer = await writeLayerBlob(store, diffId, file);
        packed.set(diffId, layer);
        const emit = (status: PushProgress["status"], bytes: number): void =>
          progress({
            type: "layer",
            digest: layer.digest,
            diffId,
            status,
            bytes,
            total: layer.size,
          });
        if (await client.hasBlob(layer.digest)) {
          emit("exists", 0);
          return;
        }
        emit("pushing", 0);
        await client.uploadBlob(layer.digest, layer.size, () => metered(layer.file, emit));
        emit("done", layer.size);
      },
      () => abort.abort(),
    );
    const layers = image.diffIds.map((d) => packed.get(d) as LayerBlob);
    if (!(await client.hasBlob(configDigest))) {
      await client.uploadBlob(configDigest, configBytes.length, async function* () {
        yield configBytes;
      });
    }

    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: format.manifest,
        config: { mediaType: format.config, size: configBytes.length, digest: configDigest },
        layers: layers.map((l) => ({ mediaType: format.layer, size: l.size, digest: l.digest })),
      }),
    );
    const digest = sha256(manifest);
    const tag = ref.tag ?? "latest";
    const reported = await client.putManifest(tag, format.manifest, manifest);
    if (reported !== undefined && reported !== digest) {
      throw new ImageError(
        "refused",
        `registry ${ref.registry} reports digest ${reported} for the manifest, expected ${digest}`,
      );
    }
    // Remember the manifest, so that RepoDigests name it.
    await store.addImages(
      [
        {
          configBytes,
          manifests: [manifest],
          references: [parseReference(`${familiarName(ref)}@${digest}`)],
        },
      ],
      [],
    );
    return {
      repository: familiarName(ref),
      tag,
      digest,
      size: manifest.length,
      configDigest,
    };
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw new ImageError("refused", `push ${name}: ${messageOf(err)}`);
  } finally {
    unlink();
    lease.release();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  }
}

/** The blob file as a stream of chunks, reporting progress every few hundred KiB. */
async function* metered(
  file: string,
  emit: (status: "pushing", bytes: number) => void,
): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  let reported = 0;
  for await (const chunk of createReadStream(file)) {
    bytes += (chunk as Buffer).length;
    if (bytes - reported >= PROGRESS_STEP) {
      reported = bytes;
      emit("pushing", bytes);
    }
    yield chunk as Buffer;
  }
}
