// The image store's public surface: references, the store, layer unpacking, archive loading.
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
  type RemoveOptions,
  type RemoveResult,
} from "./store.js";
export type { ImageInspect } from "./inspect.js";
export type { ContainerConfig, ImageConfig } from "./schema.js";
export {
  DEFAULT_MAX_LAYER_BYTES,
  unpackLayer,
  type UnpackOptions,
  type UnpackResult,
} from "./unpack.js";
export { loadImageArchive, type LoadOptions, type LoadProgress, type LoadResult } from "./load.js";
export * from "./registry/index.js";
