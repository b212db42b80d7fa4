// Images per host: the list is each host's last report; a pull runs on the host and streams
// its per-layer progress.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { PullProgress } from "@corral/protocol";
import type { Db } from "../db.ts";
import { notFound } from "../errors.ts";
import type { AgentHub } from "../sockets/agent-hub.ts";
import type { Actor, AuditService } from "./audit.ts";

export const pullInput = z.object({
  hostId: z.string().min(1, "hostId is required"),
  ref: z.string().min(1, "ref is required, e.g. busybox:latest").max(512),
});

export interface ImageView {
  hostId: string;
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  created: string;
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
    const rows = await this.db.image.findMany({
      where: hostId ? { hostId } : {},
      orderBy: [{ hostId: "asc" }, { created: "desc" }],
    });
    return rows.map((i) => ({
      hostId: i.hostId,
      id: i.imageId,
      repoTags: JSON.parse(i.repoTags) as string[],
      repoDigests: JSON.parse(i.repoDigests) as string[],
      size: i.size,
      created: i.created,
    }));
  }

  async pull(
    input: z.infer<typeof pullInput>,
    actor: Actor,
    onProgress: (layer: PullProgress["layer"]) => void = () => undefined,
  ): Promise<{ id: string; repoTags: string[]; digest: string }> {
    if (!(await this.db.host.findUnique({ where: { id: input.hostId } })))
      throw notFound(`no host ${input.hostId}`);
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
