// Notices: the alerts the rules (alert-rules.ts) raise from what agents report, stored, pushed to
// every browser (a bell in the Shell) and handed to the webhooks. Read state is per user: a
// cursor up to which everything is read.
import { EventEmitter } from "node:events";
import { z } from "zod";
import type { Db } from "../db.ts";
import type { AgentHub } from "../sockets/agent-hub.ts";
import { AlertRules, type AlertDraft, type NoticeKind } from "./alert-rules.ts";
import type { WebhookService } from "./webhooks.ts";

export interface NoticeView {
  id: number;
  kind: NoticeKind;
  hostId: string;
  containerId: string | null;
  title: string;
  message: string;
  time: string;
  /** read by the user who asks */
  read: boolean;
}

/** What a webhook receives (README "Alerts"): one JSON object per notice. */
export interface NoticePayload {
  event: NoticeKind | "test";
  noticeId: number;
  time: string;
  title: string;
  message: string;
  host: { id: string; name: string } | null;
  container: {
    id: string;
    name: string;
    image: string;
    exitCode: number | null;
    oomKilled: boolean;
  } | null;
}

export const noticeListInput = z.object({
  limit: z.coerce.number().int().min(1).max(500, "limit is at most 500").default(50),
});
export const markReadInput = z.object({
  /** everything up to this notice id is read (default: everything) */
  upTo: z.number().int().min(0).optional(),
});

/** How often held alerts (a die waiting for its stop, a host for its return) are checked. */
const TICK_MS = 250;

function describe(d: AlertDraft, hostName: string): { title: string; message: string } {
  const c = d.container;
  if (d.kind === "host-offline") {
    return {
      title: `Host ${hostName} is offline`,
      message: `Its agent has not been connected since ${d.time}; its containers' state is unknown until it returns.`,
    };
  }
  if (!c) return { title: d.kind, message: "" };
  if (d.kind === "container-oom") {
    return {
      title: `${c.name} was killed: out of memory`,
      message: `The kernel's OOM killer ended ${c.name} (${c.image}) on ${hostName}: raise its memory limit or find the leak.`,
    };
  }
  const code = c.exitCode;
  const how =
    code === null
      ? "with an unknown exit code"
      : code > 128
        ? `with exit code ${code} (killed by signal ${code - 128})`
        : `with exit code ${code}`;
  return {
    title: `${c.name} died ${how}`,
    message: `${c.name} (${c.image}) on ${hostName} stopped without a user asking: see its logs.`,
  };
}

export class NoticeService {
  readonly changes = new EventEmitter<{ notice: [NoticeView] }>();
  private readonly rules: AlertRules;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly webhooks: WebhookService,
    private readonly log: (line: string) => void = (l) => console.log(l),
    rules?: AlertRules,
  ) {
    this.rules = rules ?? new AlertRules();
  }

  /** Follows what the hub stores; alerts go out as their rules' waits end. */
  attach(hub: AgentHub): void {
    hub.changes.on("containerEvent", (hostId, e) =>
      this.rules.containerEvent(hostId, e, Date.now()),
    );
    hub.changes.on("offline", (hostId) => this.rules.hostOffline(hostId, Date.now()));
    hub.changes.on("online", (hostId) => this.rules.hostOnline(hostId));
    this.timer = setInterval(() => {
      for (const d of this.rules.due(Date.now())) {
        this.raise(d).catch((err: Error) => this.log(`notice ${d.kind}: ${err.message}`));
      }
    }, TICK_MS);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Stores a notice, pushes it to the browsers and queues it for every webhook. */
  async raise(d: AlertDraft): Promise<NoticeView> {
    const host = await this.db.host.findUnique({ where: { id: d.hostId }, select: { name: true } });
    const hostName = host?.name ?? d.hostId;
    const { title, message } = describe(d, hostName);
    const row = await this.db.notice.create({
      data: {
        kind: d.kind,
        hostId: d.hostId,
        containerId: d.container?.id ?? null,
        title,
        message,
        time: new Date(Date.parse(d.time) || Date.now()),
      },
    });
    const payload: NoticePayload = {
      event: d.kind,
      noticeId: row.id,
      time: row.time.toISOString(),
      title,
      message,
      host: { id: d.hostId, name: hostName },
      container: d.container ?? null,
    };
    await this.db.notice.update({
      where: { id: row.id },
      data: { payload: JSON.stringify(payload) },
    });
    const view = toView(row);
    this.changes.emit("notice", view);
    await this.webhooks.enqueue(row.id);
    return view;
  }

  async list(userId: string, limit: number): Promise<{ unread: number; notices: NoticeView[] }> {
    const cursor = await this.db.noticeCursor.findUnique({ where: { userId } });
    const readUpTo = cursor?.readUpTo ?? 0;
    const [rows, unread] = await Promise.all([
      // by when it happened: a die waits for its grace, an OOM kill raised after it may be older
      this.db.notice.findMany({ orderBy: [{ time: "desc" }, { id: "desc" }], take: limit }),
      this.db.notice.count({ where: { id: { gt: readUpTo } } }),
    ]);
    return { unread, notices: rows.map((r) => toView(r, readUpTo)) };
  }

  /** Marks the user's notices read up to `upTo` (default: all there are now). */
  async markRead(userId: string, upTo?: number): Promise<{ unread: number }> {
    const last = upTo ?? (await this.db.notice.findFirst({ orderBy: { id: "desc" } }))?.id ?? 0;
    const cur = (await this.db.noticeCursor.findUnique({ where: { userId } }))?.readUpTo ?? 0;
    const readUpTo = Math.max(cur, last); // a cursor never goes back
    await this.db.noticeCursor.upsert({
      where: { userId },
      create: { userId, readUpTo },
      update: { readUpTo },
    });
    return { unread: await this.db.notice.count({ where: { id: { gt: readUpTo } } }) };
  }
}

function toView(
  r: {
    id: number;
    kind: string;
    hostId: string;
    containerId: string | null;
    title: string;
    message: string;
    time: Date;
  },
  readUpTo = 0,
): NoticeView {
  return {
    id: r.id,
    kind: r.kind as NoticeKind,
    hostId: r.hostId,
    containerId: r.containerId,
    title: r.title,
    message: r.message,
    time: r.time.toISOString(),
    read: r.id <= readUpTo,
  };
}
