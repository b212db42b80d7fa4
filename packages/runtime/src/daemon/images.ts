// The daemon's face of the image store: what containers need to run an image, and the image
// routes of the API (list, inspect, load, remove).
import { basename, dirname } from "node:path";
import { ImageStore } from "../image/store.js";
import { loadImageArchive } from "../image/load.js";
import { pullImage } from "../image/registry/index.js";
import { UserError } from "../util/errors.js";
import type { Router } from "./http.js";
import type { ContainerService, ImageProvider } from "./containers.js";

export class ImageApi implements ImageProvider {
  readonly store: ImageStore;
  constructor(root: string) {
    this.store = new ImageStore(root);
  }

  async resolveForRun(ref: string): ReturnType<ImageProvider["resolveForRun"]> {
    const image = await this.store.resolve(ref);
    return {
      id: image.id.replace(/^sha256:/, ""),
      config: (image.config.config ?? {}) as Awaited<
        ReturnType<ImageProvider["resolveForRun"]>
      >["config"],
      layerDirs: await this.store.layerDirs(image.id),
    };
  }

  routes(router: Router, containers: ContainerService): void {
    const inUse = (imageId: string): boolean =>
      containers.imagesInUse().has(imageId.replace(/^sha256:/, ""));
    router
      .on("GET", "/v1/images", async () => this.store.list())
      .on("GET", "/v1/images/:ref/json", async ({ params }) => {
        try {
          return await this.store.inspect(params.ref as string);
        } catch (err) {
          throw new UserError((err as Error).message, 404);
        }
      })
      // NDJSON: one progress event per line, then {"type":"done",...} or {"type":"error",...}.
      .on("POST", "/v1/images/pull", async ({ query, res }) => {
        const ref = query.get("ref");
        if (!ref) throw new UserError("pull needs an image reference, e.g. busybox:latest");
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        const send = (event: object): void => void res.write(JSON.stringify(event) + "\n");
        try {
          const result = await pullImage(this.store, ref, { onProgress: send });
          send({ type: "done", ...result });
        } catch (err) {
          send({ type: "error", message: (err as Error).message });
        }
        res.end();
      })
      .on("POST", "/v1/images/load", async ({ req, query }) => {
        const tag = query.get("tag") ?? undefined;
        try {
          return await loadImageArchive(this.store, req, tag ? { tag } : {});
        } catch (err) {
          throw new UserError((err as Error).message);
        }
      })
      .on("DELETE", "/v1/images/:ref", async ({ params, query }) => {
        const force = query.get("force") === "1";
        let result;
        try {
          result = await this.store.remove(params.ref as string, { force, isInUse: inUse });
        } catch (err) {
          throw new UserError(
            (err as Error).message,
            /no such image/i.test((err as Error).message) ? 404 : 409,
          );
        }
        const untagged = result.flatMap((e) => ("untagged" in e ? [e.untagged] : []));
        const deleted = result.flatMap((e) => ("deleted" in e ? [e.deleted] : []));
        if (deleted.length) {
          // Layers under any container's rootfs stay, even when their image was forced out.
          const layersInUse = [...containers.layerDirsInUse()].map((d) => basename(dirname(d)));
          await this.store.garbageCollect({ layersInUse }).catch(() => undefined);
        }
        return { untagged, deleted };
      });
  }
}
