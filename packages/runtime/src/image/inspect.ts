// `docker image inspect`'s JSON shape, so that tools and people used to Docker read it as is.
import type { Digest } from "./digest.js";
import type { ImageConfig } from "./schema.js";

export interface ImageInspect {
  Id: Digest;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  Author: string;
  Config: {
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
  Size: number;
  RootFS: { Type: "layers"; Layers: Digest[] };
  Metadata: { LoadedAt: string };
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
}

/** Docker prints the zero time for images whose config has no creation time. */
const ZERO_TIME = "0001-01-01T00:00:00Z";

export function toInspect(image: InspectSource): ImageInspect {
  const c = image.config.config ?? {};
  const comment = (image.config as { comment?: unknown }).comment;
  const inspect: ImageInspect = {
    Id: image.id,
    RepoTags: image.repoTags,
    RepoDigests: image.repoDigests,
    Parent: "",
    Comment: typeof comment === "string" ? comment : "",
    Created: image.created || ZERO_TIME,
    Author: image.config.author ?? "",
    Config: {
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
  return inspect;
}
