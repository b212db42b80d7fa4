// The fleet's event log (the Event table: what agents reported, host online/offline), newest
// first, paged by id so a page never skips or repeats a row while new ones arrive.
import { z } from "zod";
import { EVENT_TYPES } from "../../live/events.ts";
import type { Db } from "../db.ts";
import type { Prisma } from "../../generated/prisma/client.ts";

export const listEventsInput = z
  .object({
    hostId: z.string().min(1, "hostId must not be empty").optional(),
    containerId: z.string().min(1, "containerId must not be empty").max(256).optional(),
    type: z.enum(EVENT_TYPES, { message: `type is one of ${EVENT_TYPES.join(", ")}` }).optional(),
    /** only events older than this id (the previous page's nextBefore) */
    before: z.coerce
      .number()
      .int()
      .positive("before is an event id (a positive integer)")
      .optional(),
    limit: z.coerce
      .number()
      .int()
      .min(1, "limit is 1 to 500")
      .max(500, "limit is 1 to 500")
      .optional(),
  })
  .strict();
export type ListEventsInput = z.infer<typeof listEventsInput>;

export interface EventView {
  id: number;
  hostId: string;
  hostName: string;
  containerId: string | null;
  /** the container's name while the database still has it */
  containerName: string | null;
  type: string;
  exitCode: number | null;
  oomKilled: boolean | null;
  message: string;
  time: string;
}

const DEFAULT_LIMIT = 50;

export class EventService {
  constructor(private readonly db: Db) {}

  /** A page of events, newest first; `nextBefore` asks for the next (older) page. */
  async list(input: ListEventsInput): Promise<{ events: EventView[]; nextBefore: number | null }> {
    const limit = input.limit ?? DEFAULT_LIMIT;
    const where: Prisma.EventWhereInput = {
      ...(input.hostId ? { hostId: input.hostId } : {}),
      ...(input.containerId ? { containerId: { startsWith: input.containerId } } : {}),
      ...(input.type ? { type: input.type } : {}),
      ...(input.before ? { id: { lt: input.before } } : {}),
    };
    const rows = await this.db.event.findMany({
      where,
      orderBy: { id: "desc" },
      take: limit + 1,
      include: { host: { select: { name: true } } },
    });
    const page = rows.slice(0, limit);
    const events = await this.views(page);
    return {
      events,
      nextBefore: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
    };
  }

  /** Events after `id`, oldest first (what the live channel pushes). */
  async after(id: number): Promise<EventView[]> {
    const rows = await this.db.event.findMany({
      where: { id: { gt: id } },
      orderBy: { id: "asc" },
      take: 1000,
      include: { host: { select: { name: true } } },
    });
    return this.views(rows);
  }

  async lastId(): Promise<number> {
    return (await this.db.event.findFirst({ orderBy: { id: "desc" } }))?.id ?? 0;
  }

  private async views(
    rows: Array<Prisma.EventGetPayload<{ include: { host: { select: { name: true } } } }>>,
  ): Promise<EventView[]> {
    const ids = [...new Set(rows.flatMap((r) => (r.containerId ? [r.containerId] : [])))];
    const names = new Map(
      (
        await this.db.container.findMany({
          where: { id: { in: ids } },
          select: { id: true, name: true },
        })
      ).map((c) => [c.id, c.name]),
    );
    return rows.map((r) => ({
      id: r.id,
      hostId: r.hostId,
      hostName: r.host.name,
      containerId: r.containerId,
      containerName: r.containerId ? (names.get(r.containerId) ?? null) : null,
      type: r.type,
      exitCode: r.exitCode,
      oomKilled: r.oomKilled,
      message: r.message,
      time: r.time.toISOString(),
    }));
  }
}
