// Registry mirrors, as Docker's `registry-mirrors`: they serve Docker Hub images only. A pull
// of a docker.io image tries each mirror in order and falls back to the next one, and at last
// to Docker Hub itself, when a mirror fails for any reason (unreachable, 404, an error, a
// blob that does not verify): a mirror is a cache, Docker Hub is the authority. Images of
// other registries never go through mirrors. Credentials sent to a mirror are the ones saved
// for the mirror's own host, never Docker Hub's.
import { ImageError, messageOf } from "../errors.js";
import { DEFAULT_REGISTRY, parseReference, type Reference } from "../reference.js";
import type { ImageStore } from "../store.js";
import type { Credentials } from "./client.js";
import { pullImage, type PullOptions, type PullResult } from "./pull.js";

export interface MirrorPullOptions extends Omit<PullOptions, "endpoint" | "credentials"> {
  /** mirror base URLs (config `registry-mirrors`), tried in order for docker.io images */
  mirrors?: readonly string[];
  /** the saved credentials for a registry host (`docker.io`, `host:port`), if any */
  credentialsFor?: (registry: string) => Credentials | undefined;
  /** told about each mirror that failed (the daemon logs it) */
  onMirrorFailure?: (mirror: string, message: string) => void;
}

/** Pulls `reference` through the configured mirrors (docker.io images), else directly. */
export async function pullWithMirrors(
  store: ImageStore,
  reference: string | Reference,
  options: MirrorPullOptions = {},
): Promise<PullResult> {
  const ref = typeof reference === "string" ? parseReference(reference) : reference;
  const { mirrors = [], credentialsFor = () => undefined, onMirrorFailure, ...rest } = options;
  if (ref.registry === DEFAULT_REGISTRY) {
    for (const mirror of mirrors) {
      try {
        return await pullImage(store, ref, {
          ...rest,
          endpoint: mirror,
          credentials: credentialsFor(new URL(mirror).host),
        });
      } catch (err) {
        if (options.signal?.aborted) throw err;
        if (err instanceof ImageError && err.code === "invalid") throw err;
        onMirrorFailure?.(mirror, messageOf(err));
      }
    }
  }
  return pullImage(store, ref, { ...rest, credentials: credentialsFor(ref.registry) });
}
