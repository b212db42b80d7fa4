// A local layer as a gzip blob for a push: the layer's exact tar, rebuilt by the store from
// its unpacked files and its tar-split record (store.layerTar, checked against the diff_id),
// then compressed. The diff_id, and so the image id, stays what it was.
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { Digest } from "../digest.js";
import { HashMeter } from "../meter.js";
import type { ImageStore } from "../store.js";

export interface LayerBlob {
  /** sha256 of the uncompressed tar */
  diffId: Digest;
  /** sha256 of the gzip blob */
  digest: Digest;
  /** bytes of the gzip blob */
  size: number;
  /** where the gzip blob was written */
  file: string;
}

export async function writeLayerBlob(
  store: ImageStore,
  diffId: Digest,
  file: string,
): Promise<LayerBlob> {
  const layer = await store.layerTar(diffId);
  const compressed = new HashMeter(Number.MAX_SAFE_INTEGER, "layer blob");
  await pipeline(layer.stream, createGzip(), compressed, createWriteStream(file, { mode: 0o600 }));
  return { diffId, digest: compressed.digest(), size: compressed.bytes, file };
}
