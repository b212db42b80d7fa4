// `docker load` for the image store: reads a `docker save` archive or an OCI image-layout
// archive, verifies every digest it claims, unpacks the layers the store lacks and registers
// the images, all or nothing.
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { extractArchive, type ArchiveFile, type ArchiveIndex } from "./archive.js";
import { digestHex, sha256, type Digest } from "./digest.js";
import { ImageError, messageOf } from "./errors.js";
import {
  familiarName,
  isBareTag,
  parseReference,
  parseTagReference,
  withTag,
  type Reference,
} from "./reference.js";
import {
  DockerArchiveManifestSchema,
  ImageConfigSchema,
  IndexSchema,
  ManifestSchema,
  MEDIA_TYPES,
  OciLayoutSchema,
  parseJson,
  type Descriptor,
  type ImageConfig,
} from "./schema.js";
import type { ImageStore, StagedLayer } from "./store.js";
import { DEFAULT_MAX_LAYER_BYTES, unpackLayer } from "./unpack.js";
import { TAR_SPLIT_FILE } from "./tar-split.js";
import { hostPlatform, pickPlatform } from "./platform.js";

export interface LoadProgress {
  type: "layer";
  diffId: Digest;
  /** exists: already in the store, not unpacked again */
  status: "exists" | "unpacking" | "done";
  /** uncompressed bytes unpacked so far (0 for "exists") */
  bytes: number;
}

export interface LoadOptions {
  /**
   * Name for the loaded image (`name[:tag]`); the archive must hold exactly one image. OCI
   * layouts made by skopeo or umoci name images by tag only ("latest"): without this option
   * such an image is loaded untagged; with a tag-less name here, the archive's tag is used.
   */
  tag?: string;
  onProgress?: (event: LoadProgress) => void;
  /** cap on each layer's uncompressed size (default 16 GiB) */
  maxLayerBytes?: number;
  /** cap on the archive's uncompressed size (default 64 GiB) */
  maxArchiveBytes?: number;
  /** told of layer entries left out while unpacking (see UnpackOptions.onNote) */
  onNote?: (note: string) => void;
  /**
   * cap on all one load writes: the archive's members plus every layer unpacked from them
   * (default 128 GiB). Each layer's own cap alone would let an archive of many small
   * compressed layers write 16 GiB per layer.
   */
  maxTotalBytes?: number;
}

export const DEFAULT_MAX_LOAD_BYTES = 128 * 1024 ** 3;

export interface LoadResult {
  images: Array<{ id: Digest; repoTags: string[] }>;
}

interface LayerSource {
  file: ArchiveFile;
  diffId: Digest;
}

interface ImagePlan {
  id: Digest;
  configBytes: Buffer;
  layers: LayerSource[];
  manifests: Buffer[];
  references: Reference[];
  /** tags the archive gives without a repository (OCI ref.name "latest") */
  bareTags: string[];
}

/** The platform picked from multi-platform indexes: this host's. */

export async function loadImageArchive(
  store: ImageStore,
  input: Readable | string,
  options: LoadOptions = {},
): Promise<LoadResult> {
  const tag = options.tag === undefined ? undefined : parseTagReference(options.tag);
  if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
    throw new ImageError("invalid", "onProgress must be a function");
  }
  let source: AsyncIterable<unknown>;
  if (typeof input === "string") {
    if (input === "") throw new ImageError("invalid", "archive path is empty");
    source = await openFile(input, "image archive");
  } else if (input !== null && typeof input === "object" && Symbol.asyncIterator in input) {
    // An error before reading starts would otherwise be uncaught; iterating reports it.
    input.on("error", () => undefined);
    source = input;
  } else {
    throw new ImageError("invalid", "input must be a readable stream or a file path");
  }
  const progress = options.onProgress ?? (() => undefined);

  const lease = store.lease();
  const tmp = await store.createTempDir("load");
  try {
    const archiveDir = join(tmp, "archive");
    await mkdir(archiveDir);
    const index = await extractArchive(source, archiveDir, { maxBytes: options.maxArchiveBytes });
    const plans = mergeById(
      index.get("manifest.json") !== undefined
        ? await planDockerArchive(index)
        : index.get("index.json") !== undefined
          ? await planOciLayout(index)
          : refuse(
              "not an image archive: it has neither manifest.json (docker save) nor index.json (OCI layout)",
            ),
    );
    if (tag !== undefined) applyTag(plans, tag);

    // Layers first (the slow part, outside the store's lock), then one registration step.
    const staged = new Map<Digest, StagedLayer>();
    let n = 0;
    const maxTotal = options.maxTotalBytes ?? DEFAULT_MAX_LOAD_BYTES;
    const layerCap = options.maxLayerBytes ?? DEFAULT_MAX_LAYER_BYTES;
    let written = index.bytes;
    const totalRefused = (): never =>
      refuse(
        `the archive writes more than the limit of ${maxTotal} bytes in all (its members and unpacked layers; possible decompression bomb)`,
      );
    for (const plan of plans) {
      for (const layer of plan.layers) {
        lease.holdLayer(layer.diffId);
        if (staged.has(layer.diffId)) continue;
        if (await store.hasLayer(layer.diffId)) {
          progress({ type: "layer", diffId: layer.diffId, status: "exists", bytes: 0 });
          continue;
        }
        progress({ type: "layer", diffId: layer.diffId, status: "unpacking", bytes: 0 });
        const budget = maxTotal - written;
        if (budget <= 0) totalRefused();
        const dir = join(tmp, `layer-${n++}`);
        await mkdir(dir);
        const result = await unpackLayer(
          await openFile(layer.file.path, "layer"),
          join(dir, "fs"),
          {
            maxBytes: Math.min(layerCap, budget),
            tarSplitPath: join(dir, TAR_SPLIT_FILE),
            onNote: options.onNote,
            onBytes: (bytes) =>
              progress({ type: "layer", diffId: layer.diffId, status: "unpacking", bytes }),
          },
        ).catch((err: unknown) => {
          const overBudget = budget < layerCap && /larger than the limit/.test(messageOf(err));
          if (overBudget) totalRefused();
          // Say which layer: an image has several and an entry name alone is ambiguous.
          const code = err instanceof ImageError ? err.code : "refused";
          throw new ImageError(
            code,
            `layer ${digestHex(layer.diffId).slice(0, 12)}: ${messageOf(err)}`,
          );
        });
        if (result.diffId !== layer.diffId) {
          refuse(
            `layer ${JSON.stringify(layer.file.name)} unpacks to diff_id ${result.diffId} but the image config says ${layer.diffId}; the archive is corrupt or was tampered with`,
          );
        }
        written += result.tarSize;
        staged.set(layer.diffId, {
          diffId: layer.diffId,
          dir,
          size: result.size,
          tarSize: result.tarSize,
        });
        progress({ type: "layer", diffId: layer.diffId, status: "done", bytes: result.tarSize });
      }
    }

    const images = await store.addImages(
      plans.map((plan) => ({
        configBytes: plan.configBytes,
        manifests: plan.manifests,
        references: [...plan.references, ...digestReferences(plan)],
      })),
      [...staged.values()],
    );
    return { images: images.map((image) => ({ id: image.id, repoTags: image.repoTags })) };
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw new ImageError("refused", `load image archive: ${messageOf(err)}`);
  } finally {
    lease.release();
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Opens a file for streaming; failing here (not in a stream event) keeps errors catchable. */
async function openFile(path: string, what: string): Promise<Readable> {
  try {
    return (await open(path, "r")).createReadStream();
  } catch (err) {
    throw new ImageError("not-found", `cannot open ${what} ${path}: ${messageOf(err)}`);
  }
}

function refuse(message: string): never {
  throw new ImageError("refused", message);
}

/** The digest a member's name claims: `blobs/sha256/<hex>` does; `<hex>.json` for a config. */
function claimedDigest(name: string, isConfig: boolean): Digest | undefined {
  const blob = /^(?:\.\/)?blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
  if (blob) return `sha256:${blob[1]}`;
  const config = /^(?:\.\/)?([a-f0-9]{64})\.json$/.exec(name);
  if (isConfig && config) return `sha256:${config[1]}`;
  return undefined;
}

function parseConfig(bytes: Buffer, what: string): ImageConfig {
  const config = parseJson(ImageConfigSchema, bytes, what);
  if (config.os !== "linux") refuse(`${what} is for os ${JSON.stringify(config.os)}, not linux`);
  return config;
}

async function planDockerArchive(index: ArchiveIndex): Promise<ImagePlan[]> {
  const manifest = parseJson(
    DockerArchiveManifestSchema,
    await index.readJson("manifest.json", "docker archive manifest"),
    "manifest.json",
  );
  const plans: ImagePlan[] = [];
  for (const item of manifest) {
    const configFile = index.require(item.Config, "image config");
    const claimed = claimedDigest(item.Config, true);
    if (claimed !== undefined && claimed !== configFile.digest) {
      refuse(`image config ${JSON.stringify(item.Config)} does not match its digest`);
    }
    const configBytes = await index.readJson(item.Config, "image config");
    const config = parseConfig(configBytes, `image config ${item.Config}`);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== item.Layers.length) {
      refuse(
        `manifest.json lists ${item.Layers.length} layers for ${item.Config} but its config has ${diffIds.length} diff_ids`,
      );
    }
    const layers = item.Layers.map((name, i): LayerSource => {
      const file = index.require(name, "layer");
      const layerClaim = claimedDigest(name, false);
      if (layerClaim !== undefined && layerClaim !== file.digest) {
        refuse(`layer blob ${JSON.stringify(name)} does not match its digest`);
      }
      return { file, diffId: diffIds[i] as Digest };
    });
    const references = (item.RepoTags ?? []).map((name) => {
      try {
        return parseTagReference(name);
      } catch (err) {
        return refuse(`manifest.json: ${messageOf(err)}`);
      }
    });
    plans.push({
      id: sha256(configBytes),
      configBytes,
      layers,
      manifests: [],
      references,
      bareTags: [],
    });
  }
  return plans;
}

/** A blob of an OCI layout, checked against its descriptor's digest and size. */
function blobFile(index: ArchiveIndex, descriptor: Descriptor, what: string): ArchiveFile {
  const file = index.require(`blobs/sha256/${digestHex(descriptor.digest)}`, `${what} blob`);
  if (file.digest !== descriptor.digest) {
    refuse(`${what} blob ${descriptor.digest} does not match its digest (got ${file.digest})`);
  }
  if (file.size !== descriptor.size) {
    refuse(
      `${what} blob ${descriptor.digest} is ${file.size} bytes, its descriptor says ${descriptor.size}`,
    );
  }
  return file;
}

async function readBlobJson(
  index: ArchiveIndex,
  descriptor: Descriptor,
  what: string,
): Promise<Buffer> {
  const file = blobFile(index, descriptor, what);
  return index.readJson(file.name, what);
}

const INDEX_TYPES = new Set<string>([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]);
const MANIFEST_TYPES = new Set<string>([MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]);

/** Follows nested indexes down to this platform's manifest; undefined for non-images. */
async function resolveManifest(
  index: ArchiveIndex,
  descriptor: Descriptor,
  depth: number,
): Promise<{ descriptor: Descriptor; bytes: Buffer } | undefined> {
  if (MANIFEST_TYPES.has(descriptor.mediaType)) {
    return { descriptor, bytes: await readBlobJson(index, descriptor, "manifest") };
  }
  if (!INDEX_TYPES.has(descriptor.mediaType)) return undefined;
  if (depth >= 4) refuse(`image index ${descriptor.digest} nests more than 4 levels deep`);
  const nested = parseJson(
    IndexSchema,
    await readBlobJson(index, descriptor, "image index"),
    `image index ${descriptor.digest}`,
  );
  const platform = hostPlatform();
  const { match, offered } = pickPlatform(nested.manifests, platform, (m) =>
    MANIFEST_TYPES.has(m.mediaType),
  );
  if (match === undefined) {
    refuse(
      `image index ${descriptor.digest} has no ${platform.os}/${platform.architecture} image (it has: ${offered})`,
    );
  }
  return resolveManifest(index, match, depth + 1);
}

async function planOciLayout(index: ArchiveIndex): Promise<ImagePlan[]> {
  if (index.get("oci-layout") !== undefined) {
    const layout = parseJson(
      OciLayoutSchema,
      await index.readJson("oci-layout", "oci-layout"),
      "oci-layout",
    );
    if (!layout.imageLayoutVersion.startsWith("1.")) {
      refuse(`unsupported OCI layout version ${JSON.stringify(layout.imageLayoutVersion)}`);
    }
  }
  const top = parseJson(IndexSchema, await index.readJson("index.json", "OCI index"), "index.json");
  const plans: ImagePlan[] = [];
  for (const entry of top.manifests) {
    const resolved = await resolveManifest(index, entry, 0);
    if (resolved === undefined) continue;
    const manifest = parseJson(
      ManifestSchema,
      resolved.bytes,
      `manifest ${resolved.descriptor.digest}`,
    );
    const configBytes = await readBlobJson(index, manifest.config, "image config");
    const config = parseConfig(configBytes, `image config ${manifest.config.digest}`);
    if (config.rootfs.diff_ids.length !== manifest.layers.length) {
      refuse(
        `manifest ${resolved.descriptor.digest} lists ${manifest.layers.length} layers but its config has ${config.rootfs.diff_ids.length} diff_ids`,
      );
    }
    const layers = manifest.layers.map((descriptor, i): LayerSource => {
      if (descriptor.mediaType.includes("zstd")) {
        refuse(
          `layer ${descriptor.digest} is zstd-compressed; only uncompressed and gzip layers are supported`,
        );
      }
      return {
        file: blobFile(index, descriptor, "layer"),
        diffId: config.rootfs.diff_ids[i] as Digest,
      };
    });

    const references: Reference[] = [];
    const bareTags: string[] = [];
    const annotations = entry.annotations ?? {};
    const fullName = annotations["io.containerd.image.name"];
    const refName = annotations["org.opencontainers.image.ref.name"];
    try {
      if (fullName !== undefined) references.push(parseTagReference(fullName));
      else if (refName !== undefined && isBareTag(refName)) bareTags.push(refName);
      else if (refName !== undefined) references.push(parseTagReference(refName));
    } catch (err) {
      refuse(`index.json: ${messageOf(err)}`);
    }
    plans.push({
      id: sha256(configBytes),
      configBytes,
      layers,
      manifests: [resolved.bytes],
      references,
      bareTags,
    });
  }
  if (plans.length === 0) refuse("index.json lists no image manifests");
  return plans;
}

/** One plan per image: an archive may list the same image under several names. */
function mergeById(plans: ImagePlan[]): ImagePlan[] {
  const byId = new Map<Digest, ImagePlan>();
  for (const plan of plans) {
    const seen = byId.get(plan.id);
    if (seen === undefined) {
      byId.set(plan.id, plan);
      continue;
    }
    seen.references.push(...plan.references);
    seen.bareTags.push(...plan.bareTags);
    for (const m of plan.manifests) {
      if (!seen.manifests.some((s) => s.equals(m))) seen.manifests.push(m);
    }
  }
  return [...byId.values()];
}

function applyTag(plans: ImagePlan[], tag: Reference): void {
  const [plan, ...others] = plans;
  if (plan === undefined || others.length > 0) {
    throw new ImageError(
      "invalid",
      `a tag can only be given for an archive holding one image; this one holds ${plans.length}`,
    );
  }
  const bare = [...new Set(plan.bareTags)];
  plan.references.push(!tag.tagExplicit && bare.length === 1 ? withTag(tag, bare[0] ?? "") : tag);
}

/** `name@sha256:<manifest>` for each name of an image whose manifest came with it. */
function digestReferences(plan: ImagePlan): Reference[] {
  const refs: Reference[] = [];
  for (const manifest of plan.manifests) {
    const digest = sha256(manifest);
    for (const ref of plan.references) {
      const parsed = parseReference(`${familiarName(ref)}@${digest}`);
      refs.push(parsed);
    }
  }
  return refs;
}
