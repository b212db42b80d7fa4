// Webhooks: admins list URLs that get a JSON POST for every notice. Each delivery is a row,
// retried with backoff until a 2xx answer or out of attempts, and resumed after a restart; its
// status (attempts, last answer or error) is what the notices page shows.
import { createHmac } from "node:crypto";
import { EventEmitter } from "node:events";
import { z } from "zod";
import type { Db } from "../db.ts";
import { notFound } from "../errors.ts";
import type { Actor, AuditService } from "./audit.ts";
import type { NoticePayload } from "./notices.ts";

export const createWebhookInput = z
  .object({
    url: z
      .url({ protocol: /^https?$/, message: "url must be an http:// or https:// URL" })
      .max(2048, "url is at most 2048 characters"),
    /** signs each body: X-Corral-Signature: sha256=<hex HMAC of the body> */
    secret: z.string().max(256, "secret is at most 256 characters").optional(),
  })
  .strict();
export type CreateWebhookInput = z.infer<typeof createWebhookInput>;

/** Waits before attempts 2, 3, ...: 6 attempts over ~13 minutes, then the delivery fails. */
export const RETRY_BACKOFF_MS = [1_000, 5_000, 30_000, 120_000, 600_000];
const ATTEMPT_TIMEOUT_MS = 10_000;
const USER_AGENT = "corral-webhook/1";

export interface DeliveryView {
  id: number;
  noticeId: number;
  title: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  lastStatus: number | null;
  lastError: string;
  nextAttemptAt: string | null;
  updatedAt: string;
}

export interface WebhookView {
  id: string;
  url: string;
  signed: boolean;
  createdAt: string;
  deliveries: DeliveryView[];
}

/** One POST: the answer's status, or why none came. */
async function post(
  url: string,
  secret: string,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number | null; error: string }> {
  const h: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    ...headers,
  };
  if (secret)
    h["x-corral-signature"] = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: h,
      body,
      redirect: "manual", // a redirect is an answer, not a place to send the payload again
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    });
    await res.body?.cancel();
    return { status: res.status, error: res.ok ? "" : `answered ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return { status: null, error: e.cause?.code ?? e.cause?.message ?? e.message };
  }
}

export class WebhookService {
  /** a delivery's status changed (the admins' page reads the list again) */
  readonly changes = new EventEmitter<{ delivery: [webhookId: string] }>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly log: (line: string) => void = (l) => console.log(l),
  ) {}

  async list(): Promise<WebhookView[]> {
    const hooks = await this.db.webhook.findMany({
      orderBy: { createdAt: "asc" },
      include: {
        deliveries: {
          orderBy: { id: "desc" },
          take: 20,
          include: { notice: { select: { title: true } } },
        },
      },
    });
    return hooks.map((w) => ({
      id: w.id,
      url: w.url,
      signed: w.secret !== "",
      createdAt: w.createdAt.toISOString(),
      deliveries: w.deliveries.map((d) => ({
        id: d.id,
        noticeId: d.noticeId,
        title: d.notice.title,
        status: d.status as DeliveryView["status"],
        attempts: d.attempts,
        lastStatus: d.lastStatus,
        lastError: d.lastError,
        nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
        updatedAt: d.updatedAt.toISOString(),
      })),
    }));
  }

  async create(input: CreateWebhookInput, actor: Actor): Promise<WebhookView> {
    const w = await this.db.webhook.create({
      data: { url: input.url, secret: input.secret ?? "" },
    });
    await this.audit.record(actor, "webhook.create", w.id, { url: input.url });
    return {
      id: w.id,
      url: w.url,
      signed: w.secret !== "",
      createdAt: w.createdAt.toISOString(),
      deliveries: [],
    };
  }

  async remove(id: string, actor: Actor): Promise<void> {
    const r = await this.db.webhook.deleteMany({ where: { id } });
    if (r.count === 0) throw notFound(`no webhook ${id}`);
    await this.audit.record(actor, "webhook.remove", id, {});
  }

  /** Sends a test payload now (no retry): the answer, so the admin sees the URL works. */
  async test(id: string, actor: Actor): Promise<{ status: number | null; error: string }> {
    const w = await this.db.webhook.findUnique({ where: { id } });
    if (!w) throw notFound(`no webhook ${id}`);
    const payload: NoticePayload = {
      event: "test",
      noticeId: 0,
      time: new Date().toISOString(),
      title: "Test from Corral",
      message: "This URL receives Corral's alerts.",
      host: null,
      container: null,
    };
    await this.audit.record(actor, "webhook.test", id, {});
    return post(w.url, w.secret, JSON.stringify(payload), { "x-corral-event": "test" });
  }

  /** A delivery to every webhook for a stored notice; sent at once. */
  async enqueue(noticeId: number): Promise<void> {
    const hooks = await this.db.webhook.findMany({ select: { id: true } });
    if (!hooks.length) return;
    await this.db.webhookDelivery.createMany({
      data: hooks.map((h) => ({ webhookId: h.id, noticeId, nextAttemptAt: new Date() })),
    });
    this.kick();
  }

  /** Delivers what is due now (also what a previous run left pending). */
  start(): void {
    this.kick();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  /** Runs the sender; a kick while it runs makes it look again when done. */
  kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.deliverDue()
      .catch((err: Error) => this.log(`webhooks: ${err.message}`))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async deliverDue(): Promise<void> {
    clearTimeout(this.timer);
    const due = await this.db.webhookDelivery.findMany({
      where: { status: "pending", nextAttemptAt: { lte: new Date() } },
      include: { webhook: true, notice: { select: { payload: true, kind: true } } },
      orderBy: { id: "asc" },
      take: 100,
    });
    // Different URLs in parallel: one slow receiver does not hold the others' alerts.
    await Promise.all(
      due.map(async (d) => {
        const attempts = d.attempts + 1;
        const r = await post(d.webhook.url, d.webhook.secret, d.notice.payload, {
          "x-corral-event": d.notice.kind,
          "x-corral-delivery": String(d.id),
        });
        const ok = r.status !== null && r.status >= 200 && r.status < 300;
        const wait = RETRY_BACKOFF_MS[attempts - 1];
        const status = ok ? "delivered" : wait === undefined ? "failed" : "pending";
        if (!ok)
          this.log(`webhook ${d.webhook.url}: attempt ${attempts} of delivery ${d.id}: ${r.error}`);
        await this.db.webhookDelivery.update({
          where: { id: d.id },
          data: {
            status,
            attempts,
            lastStatus: r.status,
            lastError: r.error,
            nextAttemptAt: status === "pending" ? new Date(Date.now() + (wait as number)) : null,
          },
        });
        this.changes.emit("delivery", d.webhookId);
      }),
    );
    if (due.length === 100) return this.deliverDue();
    const next = await this.db.webhookDelivery.findFirst({
      where: { status: "pending" },
      orderBy: { nextAttemptAt: "asc" },
    });
    if (next?.nextAttemptAt && !this.closed) {
      this.timer = setTimeout(
        () => this.kick(),
        Math.max(0, next.nextAttemptAt.getTime() - Date.now()),
      );
      this.timer.unref();
    }
  }
}
