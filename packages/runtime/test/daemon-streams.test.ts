// Streams keep to the slower side's pace and nothing stays behind when a client goes away:
// an events client that never reads is dropped; input piped into `run -i` is never buffered
// whole in the daemon.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request, type IncomingMessage } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { readFileSync, readdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { TEST_IMAGE_NAME } from "./fixtures/images.js";
import { CLI, startRuntime, type TestRuntime } from "./fixtures/runtime.js";

let runtime: TestRuntime;
const MiB = 1024 * 1024;

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(/([0-9]+)/.exec(line ?? "")?.[1] ?? 0) * 1024;
}

const socketPath = (): string => join(runtime.env.CORRAL_RUN as string, "rtd.sock");

function post(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socketPath(), method: "POST", path }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("streams with backpressure", () => {
  before(async () => {
    runtime = await startRuntime("streams");
  });
  after(() => runtime.cleanup());

  test("the events stream answers at once: its head comes before any event", async () => {
    // Nothing happens on this daemon until the head is here: it must not wait for an event.
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ socketPath: socketPath(), path: "/v1/events" }, resolve);
      req.on("error", reject);
      req.end();
    });
    assert.equal(res.statusCode, 200);
    // Subscribed once the head is here: the next container's events come on it.
    const firstLine = new Promise<string>((resolve) => {
      let text = "";
      res.on("data", (d: Buffer) => {
        text += d.toString();
        if (text.includes("\n")) resolve(text.split("\n")[0] as string);
      });
    });
    const made = runtime.rt("create", "--name", "evented", TEST_IMAGE_NAME, "true");
    assert.equal(made.code, 0, made.err);
    const event = JSON.parse(await firstLine) as { type: string; id: string };
    assert.equal(event.id, made.out.trim());
    res.destroy();
    assert.equal(runtime.rt("rm", "evented").code, 0);
  });

  test("an events client that never reads is dropped; the daemon keeps no backlog", async () => {
    const pid = runtime.daemonPid();
    // Each event carries the container's name: a long one makes 500 events ~32 MB.
    const name = `n${"x".repeat(64 * 1024)}`;
    const run = runtime.rt("run", "-d", "--name", name, TEST_IMAGE_NAME, "sleep", "3600");
    assert.equal(run.code, 0, run.err);
    const id = run.out.trim();
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    const rss = rssBytes(pid);

    const client = connect(socketPath());
    await new Promise((r) => client.once("connect", r));
    client.write("GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n");
    client.pause(); // and never reads while the events happen
    await sleep(200);
    for (let i = 0; i < 500; i++)
      assert.equal(await post(`/v1/containers/${id}/kill?signal=0`), 200);
    const grown = rssBytes(pid) - rss;
    assert.ok(grown < 16 * MiB, `daemon RSS grew by ${grown} bytes for an unread events stream`);

    // Now it reads: what was sent before it was dropped, then the end.
    let received = 0;
    client.on("data", (d: Buffer) => (received += d.length));
    client.on("error", () => undefined);
    client.resume();
    if (!client.closed) await new Promise((r) => client.once("close", r));
    assert.ok(received < 8 * MiB, `received ${received} bytes: the client was not dropped`);
    assert.match(
      readFileSync(join(runtime.env.CORRAL_RUN as string, "rtd.log"), "utf8"),
      /dropped an events client/,
    );
    assert.ok(readdirSync(`/proc/${pid}/fd`).length <= fds + 1);
    runtime.rt("rm", "-f", id);
  });

  test("1 GiB piped into run -i … sleep: read at the container's pace, daemon RSS flat", async () => {
    const pid = runtime.daemonPid();
    const rss = rssBytes(pid);
    const cli = spawn(
      process.execPath,
      [CLI, "run", "-i", "--name", "sink", TEST_IMAGE_NAME, "sleep", "3600"],
      {
        env: runtime.env,
        stdio: ["pipe", "ignore", "pipe"],
      },
    );
    cli.stdin.on("error", () => undefined);
    const chunk = Buffer.alloc(MiB, 0x61);
    let written = 0;
    // A generator at full speed, stopped by backpressure: once no drain comes for 3 s, the
    // whole chain (here -> CLI -> daemon -> the container's stdin pipe) is holding it back.
    let stalled = false;
    while (written < 1024 * MiB && !stalled) {
      written += chunk.length;
      if (!cli.stdin.write(chunk)) {
        stalled = await Promise.race([
          new Promise<boolean>((r) => cli.stdin.once("drain", () => r(false))),
          sleep(3000).then(() => true),
        ]);
      }
    }
    const grown = rssBytes(pid) - rss;
    const cliRss = rssBytes(cli.pid as number);
    assert.ok(stalled, `all of ${written} bytes went through: nothing held the writer back`);
    assert.ok(grown < 50 * MiB, `daemon RSS grew by ${grown} bytes (${written} bytes written)`);
    assert.ok(cliRss < 200 * MiB, `corral-rt holds ${cliRss} bytes`);
    cli.kill("SIGKILL");
    assert.equal(runtime.rt("rm", "-f", "sink").code, 0);
  });
});
