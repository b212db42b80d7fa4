// Notices and webhook deliveries against a real SQLite database and a real HTTP receiver on
// 127.0.0.1: the documented payload and headers, a failed attempt retried, the status kept.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { waitFor } from "../../../../../packages/runtime/test/fixtures/wait.ts";
import { createTestDatabase, type TestDatabase } from "../../../test/fixtures/database.ts";
import { createDb, type Db } from "../db.ts";
import { AuditService } from "./audit.ts";
import { NoticeService, type NoticePayload, type NoticeView } from "./notices.ts";
import { WebhookService } from "./webhooks.ts";

const actor = { userId: null, ip: "127.0.0.1" };
let database: TestDatabase;
let db: Db;
let receiver: Server;
let url: string;
const received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> =
  [];
/** answers to give, in order; then 200 */
const answers: number[] = [];

before(async () => {
  database = await createTestDatabase("webhooks");
  db = createDb(database.url);
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(answers.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
after(async () => {
  receiver?.close();
  await db?.$disconnect();
  database?.cleanup();
});

test("a notice is stored, pushed, and POSTed to every webhook; a 503 is retried", async () => {
  const webhooks = new WebhookService(db, new AuditService(db), () => undefined);
  const notices = new NoticeService(db, webhooks, () => undefined);
  const hook = await webhooks.create({ url, secret: "s3cret" }, actor);
  const pushed: NoticeView[] = [];
  notices.changes.on("notice", (n) => pushed.push(n));
  answers.push(503);

  const n = await notices.raise({
    kind: "container-died",
    hostId: "h1",
    time: "2026-12-03T00:00:00.000Z",
    container: {
      id: "c".repeat(64),
      name: "web",
      image: "busybox",
      exitCode: 137,
      oomKilled: false,
    },
  });
  assert.equal(pushed[0]?.id, n.id);
  assert.match(n.title, /web died with exit code 137 \(killed by signal 9\)/);

  await waitFor("a retry after the 503", () => received.length >= 2);
  const [first, second] = received;
  assert.equal(first?.headers["x-corral-delivery"], second?.headers["x-corral-delivery"]);
  assert.equal(second?.headers["content-type"], "application/json");
  assert.equal(second?.headers["x-corral-event"], "container-died");
  const body = second?.body ?? "";
  assert.equal(
    second?.headers["x-corral-signature"],
    `sha256=${createHmac("sha256", "s3cret").update(body).digest("hex")}`,
  );
  const payload = JSON.parse(body) as NoticePayload;
  assert.equal(payload.event, "container-died");
  assert.equal(payload.noticeId, n.id);
  assert.equal(payload.container?.exitCode, 137);
  assert.equal(payload.host?.id, "h1");

  await waitFor(
    "the delivery marked delivered",
    async () => (await webhooks.list())[0]?.deliveries[0]?.status === "delivered",
  );
  const [view] = await webhooks.list();
  assert.equal(view?.id, hook.id);
  assert.equal(view?.signed, true);
  assert.equal(view?.deliveries[0]?.attempts, 2);
  assert.equal(view?.deliveries[0]?.lastStatus, 200);

  // read state is per user, and a cursor does not go back
  assert.equal((await notices.list("u1", 10)).unread, 1);
  assert.deepEqual(await notices.markRead("u1"), { unread: 0 });
  assert.deepEqual(await notices.markRead("u1", 0), { unread: 0 });
  assert.equal((await notices.list("u2", 10)).unread, 1);
  assert.equal((await notices.list("u1", 10)).notices[0]?.read, true);
  webhooks.close();
});

test("the test button reports why an unreachable receiver got nothing", async () => {
  const webhooks = new WebhookService(db, new AuditService(db), () => undefined);
  await db.webhook.deleteMany();
  // a port that was just free: nothing listens there
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const dead = await webhooks.create({ url: `http://127.0.0.1:${port}/nothing` }, actor);
  const t = await webhooks.test(dead.id, actor);
  assert.equal(t.status, null);
  assert.match(t.error, /ECONNREFUSED/);
  await assert.rejects(webhooks.test("nope", actor), /no webhook nope/);
  webhooks.close();
});
