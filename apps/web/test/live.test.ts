// The live features end to end with a real agent, runtime and busybox containers: a container
// killed from outside raises a notice and a webhook POST (a user's stop does not), the stats
// history endpoint, logs followed through the web app across the runtime's log rotation, and
// the log download.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname } from "node:path";
import { after, before, test } from "node:test";
import { TEST_IMAGE_NAME } from "../../../packages/runtime/test/fixtures/images.ts";
import { startStack, waitFor, type Stack } from "./fixtures/stack.ts";

interface ContainerRow {
  id: string;
  name: string;
  state: string;
  pid: number;
  exitCode: number | null;
}
interface Notice {
  id: number;
  kind: string;
  containerId: string | null;
  title: string;
}
interface Point {
  t: number;
  cpu: number;
  cpuMax: number;
  mem: number;
  memMax: number;
}

let stack: Stack;
let hostId: string;
let receiver: Server;
const posts: Array<{ headers: Record<string, unknown>; body: Record<string, unknown> }> = [];

before(async () => {
  stack = await startStack("live");
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      posts.push({ headers: req.headers, body: JSON.parse(body) as Record<string, unknown> });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const jt = await stack.api<{ token: string }>("POST", "/api/v1/hosts/join-tokens");
  stack.startAgent({ name: "live-host", token: jt.body.token });
  hostId = await waitFor("the host online", async () => {
    const r = await stack.api<Array<{ id: string; status: string }>>("GET", "/api/v1/hosts");
    return r.body.find((h) => h.status === "online")?.id;
  });
});
after(async () => {
  receiver?.close();
  await stack?.cleanup();
});

async function run(name: string, cmd: string[]): Promise<ContainerRow> {
  const r = await stack.api<ContainerRow>("POST", "/api/v1/containers", {
    hostId,
    image: TEST_IMAGE_NAME,
    name,
    cmd,
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.state, "running");
  return r.body;
}

const notices = async () =>
  (await stack.api<{ unread: number; notices: Notice[] }>("GET", "/api/v1/notices")).body;

test("a container killed from outside: a notice and a webhook POST; a user's stop: neither", async () => {
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`;
  const hook = await stack.api<{ id: string }>("POST", "/api/v1/webhooks", { url });
  assert.equal(hook.status, 200, JSON.stringify(hook.body));
  const bad = await stack.api<{ error: string }>("POST", "/api/v1/webhooks", { url: "ftp://x" });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /^url: /);

  // Exits non-zero when stopped (its TERM trap): still no alert, a user asked.
  const polite = await run("polite", ["sh", "-c", "trap 'exit 3' TERM; while :; do sleep 1; done"]);
  const stopped = await stack.api<ContainerRow>("POST", `/api/v1/containers/${polite.id}/stop`);
  assert.equal(stopped.body.exitCode, 3);

  const victim = await run("victim", ["sleep", "1000"]);
  process.kill(victim.pid, "SIGKILL"); // the OOM killer, an admin's kill -9: not through Corral
  const notice = await waitFor("the notice", async () =>
    (await notices()).notices.find((n) => n.containerId === victim.id),
  );
  assert.equal(notice.kind, "container-died");
  assert.match(notice.title, /victim died with exit code 137 \(killed by signal 9\)/);
  const post = await waitFor("the webhook POST", () =>
    posts.find((p) => p.body.noticeId === notice.id),
  );
  assert.equal(post.headers["x-corral-event"], "container-died");
  assert.equal(post.body.event, "container-died");
  assert.deepEqual(post.body.host, { id: hostId, name: "live-host" });
  assert.equal((post.body.container as { id: string }).id, victim.id);
  assert.equal((post.body.container as { exitCode: number }).exitCode, 137);

  // The stop came well before the kill, so its grace is long over: no notice for it.
  assert.ok(!(await notices()).notices.some((n) => n.containerId === polite.id));
  const delivered = await waitFor("the delivery marked delivered", async () => {
    const hooks = await stack.api<
      Array<{ deliveries: Array<{ status: string; lastStatus: number }> }>
    >("GET", "/api/v1/webhooks");
    const d = hooks.body[0]?.deliveries[0];
    return d?.status === "delivered" && d;
  });
  assert.equal(delivered.lastStatus, 204);

  assert.ok((await notices()).unread >= 1);
  const read = await stack.api<{ unread: number }>("POST", "/api/v1/notices/read", {});
  assert.equal(read.body.unread, 0);
});

test("the stats history: full rate for 15 minutes, minute points for 1 h", async () => {
  const busy = await run("busy", ["sh", "-c", "while :; do :; done"]);
  const live = await waitFor("three 1 Hz points", async () => {
    const r = await stack.api<{ resolutionSeconds: number; points: Point[] }>(
      "GET",
      `/api/v1/containers/${busy.id}/stats?range=15m`,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.points.length >= 3 && r.body;
  });
  assert.equal(live.resolutionSeconds, 1);
  assert.ok(
    live.points.some((p) => p.cpu > 10),
    "a busy loop shows CPU",
  );
  assert.ok(live.points.every((p) => p.mem > 0));
  const hour = await stack.api<{ resolutionSeconds: number; points: Point[] }>(
    "GET",
    `/api/v1/containers/${busy.id}/stats?range=1h`,
  );
  assert.equal(hour.body.resolutionSeconds, 60);
  assert.ok(hour.body.points.length >= 1, "the minute being filled");
  const p = hour.body.points.at(-1) as Point;
  assert.equal(p.t % 60, 0, "a minute's start");
  assert.ok(p.cpuMax >= p.cpu);

  const badRange = await stack.api<{ error: string }>(
    "GET",
    `/api/v1/containers/${busy.id}/stats?range=2d`,
  );
  assert.equal(badRange.status, 400);
  assert.match(badRange.body.error, /range is 15m, 1h or 24h/);
  assert.equal((await stack.api("GET", `/api/v1/containers/${"0".repeat(64)}/stats`)).status, 404);
  await stack.api("DELETE", `/api/v1/containers/${busy.id}?force=1`);
});

const numbers = (from: number, to: number) => {
  let s = "";
  for (let i = from; i <= to; i++) s += `${i}\n`;
  return s;
};

test("logs followed through the web app keep every line across the runtime's rotation", async () => {
  // Made on the host (corral-rt), with a small log size: it rotates many times while followed.
  const id = stack.runtime
    .rt(
      "run",
      "-d",
      "--name",
      "chatty",
      "--log-opt",
      "max-size=16k",
      "--log-opt",
      "max-file=1000",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "sleep 2; b=0; while [ $b -lt 30 ]; do seq $((b*1000+1)) $((b*1000+1000)); b=$((b+1)); sleep 0.1; done; sleep 1000",
    )
    .out.trim();
  await waitFor("the web app to know it", async () => {
    const r = await stack.api("GET", `/api/v1/containers/${id}`);
    return r.status === 200;
  });
  const res = await fetch(`${stack.url}/api/v1/containers/${id}/logs?follow=1`, {
    headers: { authorization: `Bearer ${stack.token}` },
  });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const want = numbers(1, 30000);
  while (text.length < want.length) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  assert.ok(
    text === want,
    `every line once, in order (got ${text.length} of ${want.length} bytes)`,
  );
  const [info] = JSON.parse(stack.runtime.rt("inspect", id).out) as [{ LogPath: string }];
  const rotated = readdirSync(dirname(info.LogPath)).filter((f) => /^console\.log\.\d+$/.test(f));
  assert.ok(rotated.length > 3, `it rotated while followed (${rotated.length} files)`);

  // The download: the whole log as an attachment, with or without the times.
  const plain = await fetch(`${stack.url}/api/v1/containers/${id}/logs/download?timestamps=0`, {
    headers: { authorization: `Bearer ${stack.token}` },
  });
  assert.equal(plain.status, 200);
  assert.match(
    plain.headers.get("content-disposition") ?? "",
    /^attachment; filename="chatty-[0-9a-f]{12}\.log"$/,
  );
  assert.ok((await plain.text()) === want);
  const stamped = await (
    await fetch(`${stack.url}/api/v1/containers/${id}/logs/download`, {
      headers: { authorization: `Bearer ${stack.token}` },
    })
  ).text();
  const lines = stamped.trimEnd().split("\n");
  assert.equal(lines.length, 30000);
  assert.match(lines[0] as string, /^\d{4}-\d\d-\d\dT\S+ 1$/);
  assert.equal((await fetch(`${stack.url}/api/v1/containers/${id}/logs/download`)).status, 401);
  stack.runtime.rt("rm", "-f", id);
});
