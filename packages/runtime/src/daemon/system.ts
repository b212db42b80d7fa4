// `docker system df`: the disk used by images, containers' writable layers and volumes, in the
// Engine API's shape (GET /system/df), plus what pruning would give back.
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { digestHex } from "../image/digest.js";
import { psRow } from "../container/inspect.js";
import type { ContainerService } from "./containers.js";
import type { Router } from "./http.js";
import { layersInUse, type ImageApi } from "./images.js";
import type { VolumeStore } from "./volumes.js";

export interface DiskUsage {
  /** bytes of every layer in the store, each counted once */
  LayersSize: number;
  Images: Array<{
    Id: string;
    RepoTags: string[];
    RepoDigests: string[];
    Created: string;
    Size: number;
    /** bytes of this image's layers that other images use too */
    SharedSize: number;
    Containers: number;
  }>;
  Containers: Array<{
    Id: string;
    Names: string[];
    Image: string;
    ImageID: string;
    Command: string;
    Created: string;
    State: string;
    Status: string;
    /** bytes written to the container's own layer */
    SizeRw: number;
  }>;
  Volumes: Array<{
    Name: string;
    Mountpoint: string;
    UsageData: { Size: number; RefCount: number };
  }>;
  /**
   * What pruning would free. Images: layers that neither an image some container uses nor a
   * container's root filesystem needs (Docker's CLI subtracts per image and counts a layer
   * shared with a used image as reclaimable, which `image prune -a` would not free).
   * Containers: writable layers of containers not running. Volumes: volumes no container uses.
   */
  Reclaimable: { Images: number; Containers: number; Volumes: number };
}

/** Bytes of regular file content under `dir`, each inode once; symlinks are not followed. */
export async function directorySize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (path: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(path);
    } catch {
      return; // gone meanwhile (a container removed while we count)
    }
    for (const name of names) {
      const child = join(path, name);
      const st = await lstat(child).catch(() => undefined);
      if (st === undefined) continue;
      if (st.isDirectory()) await walk(child);
      else if (st.isFile()) {
        const inode = `${st.dev}:${st.ino}`;
        if (st.nlink > 1 && seen.has(inode)) continue;
        seen.add(inode);
        total += st.size;
      }
    }
  };
  await walk(dir);
  return total;
}

export async function diskUsage(
  containers: ContainerService,
  volumes: VolumeStore,
  images: ImageApi,
): Promise<DiskUsage> {
  const { images: all, layers } = await images.store.usage();
  const records = containers.list(true);
  const containersOf = new Map<string, number>();
  for (const r of records) containersOf.set(r.imageId, (containersOf.get(r.imageId) ?? 0) + 1);

  const imagesOfLayer = new Map<string, number>();
  for (const image of all) {
    for (const diffId of new Set(image.diffIds)) {
      imagesOfLayer.set(diffId, (imagesOfLayer.get(diffId) ?? 0) + 1);
    }
  }
  const layerSize = (diffId: string): number => layers.get(diffId as `sha256:${string}`) ?? 0;
  const needed = layersInUse(containers);
  for (const image of all) {
    if (!containersOf.has(digestHex(image.id))) continue;
    for (const diffId of image.diffIds) needed.add(digestHex(diffId));
  }
  let layersSize = 0;
  let reclaimableImages = 0;
  for (const [diffId, size] of layers) {
    layersSize += size;
    if (!needed.has(digestHex(diffId))) reclaimableImages += size;
  }

  const containerRows: DiskUsage["Containers"] = [];
  let reclaimableContainers = 0;
  for (const r of records) {
    const row = psRow(r);
    const sizeRw = await directorySize(join(containers.containerDir(r.id), "upper"));
    const running = r.state.status === "running" || r.state.status === "paused";
    if (!running) reclaimableContainers += sizeRw;
    containerRows.push({
      Id: r.id,
      Names: [`/${r.name}`],
      Image: r.imageRef,
      ImageID: `sha256:${r.imageId}`,
      Command: String(row.Command ?? ""),
      Created: r.created,
      State: r.state.status,
      Status: String(row.Status ?? ""),
      SizeRw: sizeRw,
    });
  }

  const volumeRows: DiskUsage["Volumes"] = [];
  let reclaimableVolumes = 0;
  for (const v of volumes.list()) {
    const refCount = records.filter((r) => r.mounts.some((m) => m.name === v.name)).length;
    const size = await directorySize(v.path);
    if (refCount === 0) reclaimableVolumes += size;
    volumeRows.push({
      Name: v.name,
      Mountpoint: v.path,
      UsageData: { Size: size, RefCount: refCount },
    });
  }

  return {
    LayersSize: layersSize,
    Images: all.map((image) => ({
      Id: image.id,
      RepoTags: image.repoTags,
      RepoDigests: image.repoDigests,
      Created: image.created,
      Size: image.size,
      SharedSize: [...new Set(image.diffIds)]
        .filter((d) => (imagesOfLayer.get(d) ?? 0) > 1)
        .reduce((sum, d) => sum + layerSize(d), 0),
      Containers: containersOf.get(digestHex(image.id)) ?? 0,
    })),
    Containers: containerRows,
    Volumes: volumeRows,
    Reclaimable: {
      Images: reclaimableImages,
      Containers: reclaimableContainers,
      Volumes: reclaimableVolumes,
    },
  };
}

export function registerSystemRoutes(
  router: Router,
  containers: ContainerService,
  volumes: VolumeStore,
  images: ImageApi,
): void {
  router.on("GET", "/v1/system/df", async () => diskUsage(containers, volumes, images));
}
