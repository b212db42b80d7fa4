// Shapes of the JSON documents an image is made of (OCI image spec and Docker's equivalents),
// checked with zod because every one of them arrives from an untrusted archive or registry.
// Unknown fields are kept (loose): configs carry fields this runtime does not use.
import { z } from "zod";
import { isDigest, type Digest } from "./digest.js";
import { ImageError } from "./errors.js";

const digest = z
  .string()
  .refine(isDigest, { message: "expected sha256:<64 hex>" }) as z.ZodType<Digest>;
const stringList = z.array(z.string()).nullish();
const stringMap = z.record(z.string(), z.string()).nullish();
const emptyObjectMap = z.record(z.string(), z.looseObject({})).nullish();

export const MEDIA_TYPES = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
} as const;

/** The runtime-relevant part of an image config ("config" inside the config blob). */
export const ContainerConfigSchema = z.looseObject({
  User: z.string().nullish(),
  ExposedPorts: emptyObjectMap,
  Env: stringList,
  Entrypoint: stringList,
  Cmd: stringList,
  Volumes: emptyObjectMap,
  WorkingDir: z.string().nullish(),
  Labels: stringMap,
  StopSignal: z.string().nullish(),
});
export type ContainerConfig = z.infer<typeof ContainerConfigSchema>;

export const ImageConfigSchema = z.looseObject({
  created: z.string().nullish(),
  author: z.string().nullish(),
  architecture: z.string(),
  os: z.string(),
  variant: z.string().nullish(),
  config: ContainerConfigSchema.nullish(),
  rootfs: z.looseObject({
    type: z.literal("layers"),
    diff_ids: z.array(digest),
  }),
});
export type ImageConfig = z.infer<typeof ImageConfigSchema>;

export const DescriptorSchema = z.looseObject({
  mediaType: z.string(),
  digest,
  size: z.number().int().nonnegative(),
  annotations: z.record(z.string(), z.string()).nullish(),
  platform: z
    .looseObject({ architecture: z.string(), os: z.string(), variant: z.string().nullish() })
    .nullish(),
});
export type Descriptor = z.infer<typeof DescriptorSchema>;

export const ManifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().nullish(),
  config: DescriptorSchema,
  layers: z.array(DescriptorSchema),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export const IndexSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().nullish(),
  manifests: z.array(DescriptorSchema),
});
export type Index = z.infer<typeof IndexSchema>;

export const OciLayoutSchema = z.looseObject({ imageLayoutVersion: z.string() });

/** `manifest.json` of a `docker save` archive. */
export const DockerArchiveManifestSchema = z
  .array(
    z.looseObject({
      Config: z.string(),
      RepoTags: z.array(z.string()).nullish(),
      Layers: z.array(z.string()),
    }),
  )
  .min(1);

/** Parses JSON text against a schema; failures say which document and which field. */
export function parseJson<T>(schema: z.ZodType<T>, text: Buffer | string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text.toString());
  } catch (err) {
    throw new ImageError("refused", `${what} is not valid JSON: ${(err as Error).message}`);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
    throw new ImageError("refused", `${what} is malformed${where}: ${issue?.message ?? "invalid"}`);
  }
  return result.data;
}
