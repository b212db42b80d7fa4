// `docker save`: images as one tar that `docker load`, skopeo (`docker-archive:` and
// `oci-archive:`) and our own load read. The layout is Docker 25's: an OCI image layout
// (oci-layout, index.json, blobs/sha256/) with Docker's manifest.json and repositories beside
// it, so readers of either format find what they look for. Layers are their exact uncompressed
// tars (ImageStore.layerTar, rebuilt from tar-split records), so the blobs are named by their
// diff_ids, the config is the stored one byte for byte, and a load gives back the same image id.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pack, type Pack } from "tar-stream";
import { digestHex, sha256, type Digest } from "./digest.js";
import { ImageError, messageOf } from "./errors.js";
import {
  canonicalString,
  familiarName,
  familiarString,
  parseReference,
  type Reference,
} from "./reference.js";
import { MEDIA_TYPES } from "./schema.js";
import type { Image, ImageStore, LayerTar } from "./store.js";

const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
/** Every entry gets this time, so that saving the same images twice gives the same bytes. */
const EPOCH = new Date(0);

interface SavedImage {
  image: Image;
  /** the names the archive gives it: those the user asked for, not every tag it has */
  tags: Reference[];
}

/**
 * Resolves `refs` (names, ids, id prefixes) and returns the archive as a stream. Errors about
 * the request (an unknown image, a layer that cannot be rebuilt) are thrown before any byte is
 * produced; a layer whose rebuilt tar does not match its diff_id fails the stream.
 */
export async function saveImages(store: ImageStore, refs: readonly string[]): Promise<Readable> {
  if (!Array.isArray(refs) || refs.length === 0) {
    throw new ImageError("invalid", "save needs at least one image name or id");
  }
  const byId = new Map<Digest, SavedImage>();
  for (const ref of refs) {
    const image = await store.resolve(ref);
    const saved = byId.get(image.id) ?? { image, tags: [] };
    byId.set(image.id, saved);
    const tag = requestedTag(ref, image);
    if (tag !== undefined && !saved.tags.some((t) => familiarString(t) === familiarString(tag))) {
      saved.tags.push(tag);
    }
  }
  const images = [...byId.values()];

  // Configs before layers: an opened layer tar holds a lease until its stream is destroyed.
  const configs = new Map<Digest, Buffer>();
  for (const { image } of images) {
    const bytes = await store.readBlob(image.id);
    if (sha256(bytes) !== image.id) {
      throw new ImageError("refused", `the stored config of image ${image.id} is corrupt`);
    }
    configs.set(image.id, bytes);
  }

  // Every layer's tar, opened (lazily) before the first byte: a missing tar-split record is a
  // clean error, and the layers are leased against garbage collection until written.
  const layers = new Map<Digest, LayerTar>();
  try {
    for (const { image } of images) {
      for (const diffId of image.diffIds) {
        if (!layers.has(diffId)) layers.set(diffId, await store.layerTar(diffId));
      }
    }
  } catch (err) {
    for (const layer of layers.values()) layer.stream.destroy();
    throw err;
  }

  const tar = pack();
  void writeArchive(tar, images, layers, configs).catch((err: unknown) => {
    for (const layer of layers.values()) layer.stream.destroy();
    tar.destroy(err instanceof Error ? err : new Error(messageOf(err)));
  });
  return Readable.from(tar, { objectMode: false });
}

/** The tag a `save` argument names, when it names one (not an id, not a digest). */
function requestedTag(ref: string, image: Image): Reference | undefined {
  let parsed: Reference;
  try {
    parsed = parseReference(ref);
  } catch {
    return undefined; // an id or id prefix
  }
  if (parsed.digest !== undefined) return undefined;
  return image.repoTags.includes(familiarString(parsed)) ? parsed : undefined;
}

async function addFile(tar: Pack, name: string, content: Buffer | string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    tar.entry({ name, mtime: EPOCH, mode: 0o644 }, content, (err) =>
      err ? reject(err) : resolve(),
    );
  });
}

async function addDir(tar: Pack, name: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    tar.entry({ name, type: "directory", mtime: EPOCH, mode: 0o755 }, (err) =>
      err ? reject(err) : resolve(),
    );
  });
}

async function writeArchive(
  tar: Pack,
  images: SavedImage[],
  layers: Map<Digest, LayerTar>,
  configs: Map<Digest, Buffer>,
): Promise<void> {
  const blob = (digest: Digest): string => `blobs/sha256/${digestHex(digest)}`;
  await addDir(tar, "blobs/");
  await addDir(tar, "blobs/sha256/");

  for (const layer of layers.values()) {
    const sink = tar.entry({
      name: blob(layer.diffId),
      size: layer.size,
      mtime: EPOCH,
      mode: 0o644,
    });
    await pipeline(layer.stream, sink);
  }

  const index: object[] = [];
  const dockerManifest: object[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { image, tags } of images) {
    const config = configs.get(image.id) as Buffer;
    await addFile(tar, blob(image.id), config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: { mediaType: OCI_CONFIG, digest: image.id, size: config.length },
        layers: image.diffIds.map((diffId) => ({
          mediaType: OCI_LAYER,
          digest: diffId,
          size: layers.get(diffId)?.size ?? 0,
        })),
      }),
    );
    const manifestDigest = sha256(manifest);
    await addFile(tar, blob(manifestDigest), manifest);
    const descriptor = {
      mediaType: MEDIA_TYPES.ociManifest,
      digest: manifestDigest,
      size: manifest.length,
    };
    if (tags.length === 0) index.push(descriptor);
    for (const tag of tags) {
      index.push({
        ...descriptor,
        annotations: {
          "io.containerd.image.name": canonicalString(tag),
          "org.opencontainers.image.ref.name": tag.tag ?? "latest",
        },
      });
      const top = image.diffIds[image.diffIds.length - 1];
      if (top !== undefined) {
        (repositories[familiarName(tag)] ??= {})[tag.tag ?? "latest"] = digestHex(top);
      }
    }
    dockerManifest.push({
      Config: blob(image.id),
      RepoTags: tags.length > 0 ? tags.map(familiarString) : null,
      Layers: image.diffIds.map(blob),
    });
  }

  await addFile(
    tar,
    "index.json",
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: index }),
  );
  await addFile(tar, "manifest.json", JSON.stringify(dockerManifest));
  await addFile(tar, "oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  if (Object.keys(repositories).length > 0) {
    await addFile(tar, "repositories", JSON.stringify(repositories));
  }
  tar.finalize();
}
