// No client can take the daemon down: malformed requests, garbage after an upgrade, half-closed
// and reset connections, a full disk under a terminal's log. The daemon answers or closes each,
// keeps its pid, and its fds and memory stay flat.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FRAME, encodeFrame } from "../src/protocol/attach.js";
import { ESCAPED } from "../src/daemon/faults.js";
import { TEST_IMAGE_NAME } from "./fixtures/images.js";
import { startRuntime, type TestRuntime } from "./fixtures/runtime.js";

let runtime: TestRuntime;

function socketPath(): string {
  return join(runtime.env.CORRAL_RUN as string, "rtd.sock");
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(/([0-9]+)/.exec(line ?? "")?.[1] ?? 0) * 1024;
}

function daemonLog(): string {
  return readFileSync(join(runtime.env.CORRAL_RUN as string, "rtd.log"), "utf8");
}

interface Exchange {
  /** Bytes to send, in order (a function gets the bytes received so far). */
  send: Buffer[];
  /** Half-close after sending. */
  end?: boolean;
  /** Reset (destroy) right after sending, without reading. */
  reset?: boolean;
}

/**
 * One connection: sends, then reads until the daemon closes it. A daemon that keeps a
 * connection it should keep (an attach, a half request) is left after a while: that is the
 * client going away, one more case.
 */
function exchange(x: Exchange): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(socketPath());
    const got: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), 1000);
    socket.on("data", (d: Buffer) => got.push(d));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got).toString("latin1"));
    });
    socket.on("connect", () => {
      for (const b of x.send) socket.write(b);
      if (x.reset) socket.destroy();
      else if (x.end) socket.end();
    });
  });
}

const http = (text: string): Buffer => Buffer.from(text.replace(/\n/g, "\r\n"));
const upgrade = (path: string): Buffer =>
  http(`POST ${path} HTTP/1.1\nHost: x\nConnection: Upgrade\nUpgrade: corral-attach\n\n`);

/** Every case once; returns what each answered, by name. */
async function fuzzRound(id: string): Promise<Map<string, string>> {
  const attach = upgrade(`/v1/containers/${id}/attach-start`);
  const cases: Record<string, Exchange> = {
    "request line //[": { send: [http("GET //[ HTTP/1.1\nHost: x\n\n")] },
    "bad %-escape": { send: [http("GET /v1/containers/%zz HTTP/1.1\nHost: x\n\n")] },
    "header without colon": { send: [http("GET /v1/ping HTTP/1.1\nBad Header\n\n")] },
    "negative content-length": {
      send: [http("POST /v1/containers HTTP/1.1\nHost: x\nContent-Length: -1\n\n")],
    },
    "broken chunked body": {
      send: [
        http("POST /v1/containers HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\nzz\nabc\n"),
      ],
    },
    "huge header": { send: [http(`GET /v1/ping HTTP/1.1\nX: ${"a".repeat(70000)}\n\n`)] },
    "body not JSON": {
      send: [http("POST /v1/containers HTTP/1.1\nHost: x\nContent-Length: 3\n\n{{{")],
    },
    "body null": {
      send: [http("POST /v1/containers HTTP/1.1\nHost: x\nContent-Length: 4\n\nnull")],
    },
    "random bytes": { send: [randomBytes(4096)] },
    "half request, half-closed": { send: [http("GET /v1/ping HTTP/1.1\n")], end: true },
    "events, reset at once": { send: [http("GET /v1/events HTTP/1.1\nHost: x\n\n")], reset: true },
    "upgrade to //[": { send: [upgrade("//[")] },
    "upgrade to an unknown container": { send: [upgrade("/v1/containers/nosuch/attach-start")] },
    "attach, random bytes": { send: [attach, randomBytes(4096)] },
    "attach, resize frame x": { send: [attach, encodeFrame(FRAME.resize, "x")] },
    "attach, resize frame null": { send: [attach, encodeFrame(FRAME.resize, "null")] },
    "attach, input then reset": {
      send: [attach, encodeFrame(FRAME.data, "hello\n")],
      reset: true,
    },
    "attach, half-closed": { send: [attach], end: true },
  };
  const answers = new Map<string, string>();
  for (const [name, x] of Object.entries(cases)) answers.set(name, await exchange(x));
  return answers;
}

describe("the daemon survives its clients", () => {
  before(async () => {
    runtime = await startRuntime("faults");
  });
  after(() => runtime.cleanup());

  test("a fuzzer on the socket: every case answered or closed, fds and RSS flat", async () => {
    const pid = runtime.daemonPid();
    // An -i container that reads its input, for the attach cases (each attaches to it again).
    const created = runtime.rt("create", "-i", TEST_IMAGE_NAME, "cat");
    assert.equal(created.code, 0, created.err);
    const id = created.out.trim();

    const first = await fuzzRound(id);
    assert.match(first.get("request line //[") ?? "", /^HTTP\/1\.1 400 /);
    assert.match(first.get("request line //[") ?? "", /malformed request target/);
    assert.match(first.get("bad %-escape") ?? "", /^HTTP\/1\.1 400 /);
    assert.match(first.get("body not JSON") ?? "", /^HTTP\/1\.1 400 /);
    assert.match(first.get("body null") ?? "", /^HTTP\/1\.1 400 /);
    assert.match(first.get("upgrade to an unknown container") ?? "", /No such container: nosuch/);
    assert.match(first.get("attach, resize frame x") ?? "", /^HTTP\/1\.1 101 /);

    // Warmed up (code paths compiled, pools filled): now the leak check, with a generous margin.
    const fds = fdCount(pid);
    const rss = rssBytes(pid);
    for (let round = 0; round < 5; round++) await fuzzRound(id);
    await sleep(500); // sockets closed by the client are closed by the daemon a tick later
    assert.equal(runtime.daemonPid(), pid);
    assert.equal(runtime.rt("ps", "-a", "-q").code, 0);
    const inspect = JSON.parse(runtime.rt("inspect", id).out) as [{ State: { Status: string } }];
    assert.equal(inspect[0].State.Status, "running", "the container outlives its clients");
    assert.ok(fdCount(pid) <= fds + 3, `fds ${fds} -> ${fdCount(pid)}`);
    const grown = rssBytes(pid) - rss;
    assert.ok(grown < 40 * 1024 * 1024, `RSS grew by ${grown} bytes`);
    // Request-scoped errors were handled where they happened, none by the process-level policy.
    assert.doesNotMatch(daemonLog(), new RegExp(ESCAPED));
    runtime.rt("rm", "-f", id);
  });
});

describe("a full disk under a terminal's log", () => {
  let full: TestRuntime;
  let signals: string;
  before(async () => {
    full = await startRuntime("faults-disk", { rootTmpfsSize: "48m" });
    signals = mkdtempSync(join(tmpdir(), "corral-faults-signal-"));
  });
  after(() => {
    full.cleanup();
    rmSync(signals, { recursive: true, force: true });
  });

  test("logs the error and keeps serving", async () => {
    const pid = full.daemonPid();
    const run = full.rt(
      "run",
      "-d",
      "-t",
      "-v",
      `${signals}:/signal`,
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "while [ ! -e /signal/go ]; do sleep 0.1; done; while :; do echo output on a full disk; done",
    );
    assert.equal(run.code, 0, run.err);
    // Fill the state root's filesystem, then let the container print.
    spawnSync("dd", ["if=/dev/zero", `of=${join(full.base, "root", "filler")}`, "bs=1M"]);
    writeFileSync(join(signals, "go"), "");
    const logFile = join(full.env.CORRAL_RUN as string, "rtd.log");
    for (let i = 0; i < 100; i++) {
      if (/terminal log/.test(readFileSync(logFile, "utf8"))) break;
      try {
        process.kill(pid, 0);
      } catch {
        break; // the daemon died
      }
      await sleep(100);
    }
    assert.match(readFileSync(logFile, "utf8"), /terminal log.*ENOSPC/);
    assert.equal(full.daemonPid(), pid);
    process.kill(pid, 0); // still alive
    rmSync(join(full.base, "root", "filler"));
    const ps = full.rt("ps", "-q");
    assert.equal(ps.code, 0, ps.err);
    assert.equal(ps.out.trim().length, 12, "the container keeps running");
  });
});
