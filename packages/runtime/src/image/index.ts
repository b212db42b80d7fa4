// The image store's public surface: references, the store, layer unpacking, archive loading
// and saving.
export { ImageError, type ImageErrorCode } from "./errors.js";
export { isDigest, parseDigest, type Digest } from "./digest.js";
export {
  canonicalString,
  familiarName,
  familiarString,
  parseReference,
  parseTagReference,
  type Reference,
} from "./reference.js";
export {
  ImageStore,
  type GarbageCollectOptions,
  type GarbageCollectResult,
  type Image,
  type ImageRecord,
  type ImageSummary,
  type LayerTar,
  type RemoveOptions,
  type RemoveResult,
  type StoreUsage,
} from "./store.js";
export type { HistoryItem, ImageInspect } from "./inspect.js";
export type { ContainerConfig, ImageConfig } from "./schema.js";
export {
  DEFAULT_MAX_LAYER_BYTES,
  unpackLayer,
  type UnpackOptions,
  type UnpackResult,
} from "./unpack.js";
export { loadImageArchive, type LoadOptions, type LoadProgress, type LoadResult } from "./load.js";
export { saveImages } from "./save.js";
export * from "./registry/index.js";
