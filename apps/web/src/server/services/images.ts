// Images per host: the list is each host's last report; a pull runs on the host and streams
// its per-layer progress.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { PullProgress } from "@corral/protocol";
import type { Db } from "../db.ts";
import { notFound } from "../errors.ts";
import type { AgentHub } from "../sockets/agent-hub.ts";
import type { Actor, AuditService } from "./audit.ts";
import { requireHost } from "./fleet-query.ts";

export const pullInput = z.object({
  hostId: z.string().min(1, "hostId is required"),
  ref: z.string().min(1, "ref is required, e.g. busybox:latest").max(512),
});

export const removeImageInput = z.object({
  hostId: z.string().min(1, "hostId is required"),
  /** an image id, or a name such as busybox:latest */
  id: z.string().min(1, "id is required").max(512),
  /** remove even when a container uses it or several names point at it */
  force: z.boolean().optional(),
});

export const pruneImagesInput = z.object({
  hostId: z.string().min(1, "hostId is required"),
  /** also tagged images no container uses (default: untagged ones only, as Docker) */
  all: z.boolean().optional(),
});

export interface ImageView {
  hostId: string;
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  created: string;
  /** names of the host's containers made from it (running or not) */
  usedBy: string[];
}

export class ImageService {
  constructor(
    private readonly db: Db,
    private readonly hub: AgentHub,
    private readonly audit: AuditService,
  ) {}

  async list(hostId?: string): Promise<ImageView[]> {
    if (hostId !== undefined && !(await this.db.host.findUnique({ where: { id: hostId } })))
      throw notFound(`no host ${hostId}`);
    const [rows, containers] = await Promise.all([
      this.db.image.findMany({
        where: hostId ? { hostId } : {},
        orderBy: [{ hostId: "asc" }, { created: "desc" }],
      }),
      this.db.container.findMany({
        where: hostId ? { hostId } : {},
        select: { hostId: true, imageId: true, name: true },
      }),
    ]);
    const users = new Map<string, string[]>();
    for (const c of containers) {
      const key = `${c.hostId} ${c.imageId}`;
      users.set(key, [...(users.get(key) ?? []), c.name]);
    }
    return rows.map((i) => ({
      hostId: i.hostId,
      id: i.imageId,
      repoTags: JSON.parse(i.repoTags) as string[],
      repoDigests: JSON.parse(i.repoDigests) as string[],
      size: i.size,
      created: i.created,
      usedBy: users.get(`${i.hostId} ${i.imageId}`) ?? [],
    }));
  }

  /** Removes (or untags) an image on its host; the runtime refuses while a container uses it. */
  async remove(
    input: z.infer<typeof removeImageInput>,
    actor: Actor,
  ): Promise<{ untagged: string[]; deleted: string[] }> {
    await requireHost(this.db, input.hostId);
    const r = await this.hub.command(input.hostId, {
      type: "images.remove",
      ref: input.id,
      force: input.force ?? false,
    });
    await this.audit.record(actor, "image.remove", input.id, {
      hostId: input.hostId,
      force: input.force ?? false,
    });
    return r;
  }

  async prune(
    input: z.infer<typeof pruneImagesInput>,
    actor: Actor,
  ): Promise<{ untagged: string[]; deleted: string[]; spaceReclaimed: number }> {
    await requireHost(this.db, input.hostId);
    const r = await this.hub.command(input.hostId, {
      type: "images.prune",
      all: input.all ?? false,
    });
    await this.audit.record(actor, "image.prune", "", {
      hostId: input.hostId,
      deleted: r.deleted.length,
      spaceReclaimed: r.spaceReclaimed,
    });
    return r;
  }

  async pull(
    input: z.infer<typeof pullInput>,
    actor: Actor,
    onProgress: (layer: PullProgress["layer"]) => void = () => undefined,
  ): Promise<{ id: string; repoTags: string[]; digest: string }> {
    await requireHost(this.db, input.hostId);
    const streamId = randomUUID();
    const close = this.hub.openStream(input.hostId, streamId, {
      progress: onProgress,
      end: () => undefined,
    });
    try {
      // A pull may take long: the agent answers when it is done.
      const result = await this.hub.command(
        input.hostId,
        { type: "pull", ref: input.ref, streamId },
        30 * 60_000,
      );
      await this.audit.record(actor, "image.pull", input.ref, {
        hostId: input.hostId,
        id: result.id,
      });
      return result;
    } finally {
      close();
    }
  }
}
