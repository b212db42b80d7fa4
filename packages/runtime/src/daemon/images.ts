// The daemon's face of the image store: what containers need to run an image, and the image
// routes of the API (list, inspect, history, tag, load, save, remove, prune).
import { basename, dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import { ImageError } from "../image/errors.js";
import { ImageStore, type GarbageCollectResult } from "../image/store.js";
import { loadImageArchive } from "../image/load.js";
import { saveImages } from "../image/save.js";
import { RegistryAccess } from "./registries.js";
import { registerRegistryRoutes, rethrow } from "./registry-routes.js";
import { UserError } from "../util/errors.js";
import { disconnectSignal, type Router } from "./http.js";
import type { ContainerService, ImageProvider } from "./containers.js";

export class ImageApi implements ImageProvider {
  readonly store: ImageStore;
  constructor(
    root: string,
    readonly registries = new RegistryAccess(root),
    private readonly log: (message: string) => void = () => undefined,
  ) {
    this.store = new ImageStore(root);
  }

  /**
   * The image as a new container needs it, its layers leased until `release()`: a concurrent
   * `rmi` and garbage collection cannot remove them before the container that uses them is
   * registered (from then on, collection sees them in use).
   */
  async resolveForRun(ref: string): ReturnType<ImageProvider["resolveForRun"]> {
    const image = await this.store.resolve(ref);
    const lease = this.store.lease();
    try {
      for (const diffId of image.diffIds) lease.holdLayer(diffId);
      // Checked after the lease, under the store's lock: a collection that began before it
      // has finished, and what is found now stays.
      for (const diffId of image.diffIds)
        if (!(await this.store.hasLayer(diffId)))
          throw new ImageError("not-found", `layer ${diffId} is missing: load the image again`);
      return {
        id: image.id.replace(/^sha256:/, ""),
        config: (image.config.config ?? {}) as Awaited<
          ReturnType<ImageProvider["resolveForRun"]>
        >["config"],
        layerDirs: await this.store.layerDirs(image.id),
        release: () => lease.release(),
      };
    } catch (err) {
      lease.release();
      throw err;
    }
  }

  /**
   * Removes layers and blobs no image uses. Layers under any container's rootfs stay, even
   * when their image was forced out.
   */
  async collectGarbage(containers: ContainerService): Promise<GarbageCollectResult> {
    return this.store.garbageCollect({ layersInUse: () => layersInUse(containers) });
  }

  routes(router: Router, containers: ContainerService): void {
    registerRegistryRoutes(router, { store: this.store, registries: this.registries });
    const inUse = (imageId: string): boolean =>
      containers.imagesInUse().has(imageId.replace(/^sha256:/, ""));
    router
      .on("GET", "/v1/images", async () => this.store.list())
      .on("GET", "/v1/images/:ref/json", async ({ params }) =>
        this.store.inspect(params.ref as string).catch(rethrow),
      )
      .on("GET", "/v1/images/:ref/history", async ({ params }) =>
        this.store.history(params.ref as string).catch(rethrow),
      )
      .on("POST", "/v1/images/:ref/tag", async ({ params, query }) => {
        const target = query.get("target");
        if (!target) throw new UserError("tag needs a target name, e.g. myimage:1.0");
        await this.store.tag(params.ref as string, target).catch(rethrow);
        return {};
      })
      // A tar stream; a failure after the first byte (a layer that no longer matches its
      // diff_id) is reported in the X-Corral-Error trailer, the archive then being incomplete.
      .on("GET", "/v1/images/get", async ({ query, res }) => {
        const archive = await saveImages(this.store, query.getAll("names")).catch(rethrow);
        res.writeHead(200, { "content-type": "application/x-tar", trailer: "X-Corral-Error" });
        try {
          await pipeline(archive, res, { end: false });
        } catch (err) {
          archive.destroy();
          const message = (err as Error).message.replace(/[\r\n]+/g, " ");
          if (!res.destroyed) res.addTrailers({ "X-Corral-Error": message });
        }
        res.end();
      })
      // Docker's prune: images no container uses, only untagged ones unless all=1.
      .on("POST", "/v1/images/prune", async ({ query }) => {
        const all = query.get("all") === "1";
        const deleted: Array<{ Untagged: string } | { Deleted: string }> = [];
        for (const image of await this.store.list()) {
          if (!all && image.repoTags.length > 0) continue;
          if (inUse(image.id)) continue;
          let removed;
          try {
            // Not `force`: a container created since the check above keeps its image (the
            // store checks isInUse again under its lock).
            removed = await this.store.remove(image.id, { untagAll: true, isInUse: inUse });
          } catch (err) {
            if (err instanceof ImageError && (err.code === "not-found" || err.code === "conflict"))
              continue;
            throw err;
          }
          for (const e of removed) {
            deleted.push("untagged" in e ? { Untagged: e.untagged } : { Deleted: e.deleted });
          }
        }
        const gc = await this.collectGarbage(containers);
        return { ImagesDeleted: deleted, SpaceReclaimed: gc.reclaimedBytes };
      })
      // NDJSON: one progress event per line, then {"type":"done",...} or {"type":"error",...}.
      .on("POST", "/v1/images/pull", async ({ query, res }) => {
        const ref = query.get("ref");
        if (!ref) throw new UserError("pull needs an image reference, e.g. busybox:latest");
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        const send = (event: object): void => void res.write(JSON.stringify(event) + "\n");
        try {
          const result = await this.registries.pull(this.store, ref, {
            onProgress: send,
            signal: disconnectSignal(res),
          });
          send({ type: "done", ...result });
        } catch (err) {
          send({ type: "error", message: (err as Error).message });
        }
        res.end();
      })
      .on("POST", "/v1/images/load", async ({ req, query }) => {
        const tag = query.get("tag") ?? undefined;
        const onNote = (note: string): void => this.log(`load: ${note}`);
        return loadImageArchive(this.store, req, { ...(tag ? { tag } : {}), onNote }).catch(
          rethrow,
        );
      })
      .on("DELETE", "/v1/images/:ref", async ({ params, query }) => {
        const force = query.get("force") === "1";
        const result = await this.store
          .remove(params.ref as string, { force, isInUse: inUse })
          .catch(rethrow);
        const untagged = result.flatMap((e) => ("untagged" in e ? [e.untagged] : []));
        const deleted = result.flatMap((e) => ("deleted" in e ? [e.deleted] : []));
        if (deleted.length) await this.collectGarbage(containers).catch(() => undefined);
        return { untagged, deleted };
      });
  }
}

/** The layers (diff_id hex) some container's rootfs is made of: `layers/<hex>/fs` dirs. */
export function layersInUse(containers: ContainerService): Set<string> {
  return new Set([...containers.layerDirsInUse()].map((d) => basename(dirname(d))));
}
