// `docker image inspect`'s and `docker history`'s JSON shapes, so that tools and people used
// to Docker read them as they are.
import type { Digest } from "./digest.js";
import { z } from "zod";
import type { ImageConfig } from "./schema.js";

export interface ImageInspect {
  Id: Digest;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  /** the image config's `config`: these fields always, any others it has (Healthcheck, ...) too */
  Config: {
    [field: string]: unknown;
    User: string;
    ExposedPorts: Record<string, object> | null;
    Env: string[] | null;
    Cmd: string[] | null;
    Entrypoint: string[] | null;
    Volumes: Record<string, object> | null;
    WorkingDir: string;
    Labels: Record<string, string> | null;
    StopSignal: string;
  };
  Architecture: string;
  Variant?: string;
  Os: string;
  OsVersion?: string;
  Size: number;
  /** Docker's overlay2 layout is the store's: one lowerdir per layer, the top one "UpperDir" */
  GraphDriver?: { Name: "overlay2"; Data: { LowerDir?: string; UpperDir: string } };
  RootFS: { Type: "layers"; Layers: Digest[] };
  Metadata: { LoadedAt: string };
}

/** One row of `docker history` (the Engine API's HistoryResponseItem), newest first. */
export interface HistoryItem {
  /** the image id on the top row, "<missing>" below it (no parent images here, as after a pull) */
  Id: string;
  /** Unix seconds; 0 when unknown */
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export interface InspectSource {
  id: Digest;
  repoTags: string[];
  repoDigests: string[];
  config: ImageConfig;
  diffIds: Digest[];
  size: number;
  created: string;
  loadedAt: string;
  /** the layers' directories, top-most first, when known */
  layerDirs?: string[];
}

/** Docker prints the zero time for images whose config has no creation time. */
const ZERO_TIME = "0001-01-01T00:00:00Z";

export function toInspect(image: InspectSource): ImageInspect {
  const c = image.config.config ?? {};
  const comment = (image.config as { comment?: unknown }).comment;
  const dockerVersion = (image.config as { docker_version?: unknown }).docker_version;
  const osVersion = (image.config as { "os.version"?: unknown })["os.version"];
  const inspect: ImageInspect = {
    Id: image.id,
    RepoTags: image.repoTags,
    RepoDigests: image.repoDigests,
    Parent: "",
    Comment: typeof comment === "string" ? comment : "",
    Created: image.created || ZERO_TIME,
    DockerVersion: typeof dockerVersion === "string" ? dockerVersion : "",
    Author: image.config.author ?? "",
    Config: {
      ...c,
      User: c.User ?? "",
      ExposedPorts: c.ExposedPorts ?? null,
      Env: c.Env ?? null,
      Cmd: c.Cmd ?? null,
      Entrypoint: c.Entrypoint ?? null,
      Volumes: c.Volumes ?? null,
      WorkingDir: c.WorkingDir ?? "",
      Labels: c.Labels ?? null,
      StopSignal: c.StopSignal ?? "",
    },
    Architecture: image.config.architecture,
    Os: image.config.os,
    Size: image.size,
    RootFS: { Type: "layers", Layers: image.diffIds },
    Metadata: { LoadedAt: image.loadedAt },
  };
  if (image.config.variant) inspect.Variant = image.config.variant;
  if (typeof osVersion === "string" && osVersion !== "") inspect.OsVersion = osVersion;
  const [upper, ...lower] = image.layerDirs ?? [];
  if (upper !== undefined) {
    inspect.GraphDriver = {
      Name: "overlay2",
      Data: lower.length > 0 ? { LowerDir: lower.join(":"), UpperDir: upper } : { UpperDir: upper },
    };
  }
  // Key order as Docker prints it: GraphDriver before RootFS.
  const { RootFS, Metadata, ...rest } = inspect;
  return { ...rest, RootFS, Metadata };
}

const HistoryEntrySchema = z.looseObject({
  created: z.string().nullish(),
  created_by: z.string().nullish(),
  comment: z.string().nullish(),
  empty_layer: z.boolean().nullish(),
});

function unixSeconds(iso: string | null | undefined): number {
  const ms = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
}

/**
 * `docker history`: the config's history entries, each non-empty one paired with the next
 * layer (as Docker's daemon does), newest first. A config without history (or with more
 * non-empty entries than layers, which Docker refuses) gets one row per layer instead, so
 * that every layer and its size still show.
 */
export function toHistory(
  image: InspectSource,
  layerSize: (diffId: Digest) => number,
): HistoryItem[] {
  const raw = (image.config as { history?: unknown }).history;
  const parsed = z.array(HistoryEntrySchema).safeParse(raw);
  const entries = parsed.success ? parsed.data : [];
  const nonEmpty = entries.filter((h) => h.empty_layer !== true).length;
  const rows: Omit<HistoryItem, "Id" | "Tags">[] = [];
  if (entries.length === 0 || nonEmpty > image.diffIds.length) {
    for (const diffId of image.diffIds) {
      rows.push({
        Created: unixSeconds(image.created),
        CreatedBy: "",
        Size: layerSize(diffId),
        Comment: "",
      });
    }
  } else {
    let layer = 0;
    for (const h of entries) {
      const diffId = h.empty_layer === true ? undefined : image.diffIds[layer++];
      rows.push({
        Created: unixSeconds(h.created),
        CreatedBy: h.created_by ?? "",
        Size: diffId === undefined ? 0 : layerSize(diffId),
        Comment: h.comment ?? "",
      });
    }
  }
  return rows.reverse().map((row, i) => ({
    Id: i === 0 ? image.id : "<missing>",
    ...row,
    Tags: i === 0 && image.repoTags.length > 0 ? image.repoTags : null,
  }));
}
