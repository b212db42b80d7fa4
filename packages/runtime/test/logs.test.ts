// Container logs at scale with real containers: timestamps on a big log, followers that go
// away, rotation that loses no line.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { request } from "node:http";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { TEST_IMAGE_NAME } from "./fixtures/images.js";
import { CLI, startRuntime, type TestRuntime } from "./fixtures/runtime.js";

let runtime: TestRuntime;
const rt = (...args: string[]): ReturnType<TestRuntime["rt"]> => runtime.rt(...args);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const daemonFds = (): number => readdirSync(`/proc/${runtime.daemonPid()}/fd`).length;

const seq = (from: number, to: number): string => {
  const lines: string[] = [];
  for (let i = from; i <= to; i++) lines.push(String(i));
  return lines.join("\n") + "\n";
};

/** Starts a followed log request over the daemon's socket and drops it after its first bytes. */
function abortedFollow(id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({
      socketPath: join(runtime.base, "run", "rtd.sock"),
      path: `/v1/containers/${id}/logs?follow=1&tail=-1&timestamps=1`,
    });
    req.on("response", (res) => {
      res.once("data", () => {
        req.destroy();
        resolve();
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("container logs", () => {
  before(async () => {
    runtime = await startRuntime("logs");
  });

  after(() => runtime.cleanup());

  test("logs -t of a million lines: every line once, in order, times never going back", () => {
    const id = rt("run", "-d", TEST_IMAGE_NAME, "seq", "1000000").out.trim();
    assert.equal(rt("wait", id).out.trim(), "0");
    const r = spawnSync(process.execPath, [CLI, "logs", "-t", id], {
      env: runtime.env,
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
    });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assert.equal(lines.pop(), "");
    assert.equal(lines.length, 1_000_000);
    let previous = "";
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      const stamp = line.slice(0, 24);
      assert.ok(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(stamp), line);
      assert.ok(stamp >= previous, `line ${i + 1}: ${stamp} after ${previous}`);
      assert.equal(line.slice(25), String(i + 1));
      previous = stamp;
    }
    const tail = rt("logs", "--tail", "2", "-t", id).out.split("\n");
    assert.deepEqual(
      tail.map((l) => l.slice(25)),
      ["999999", "1000000", ""],
    );
    rt("rm", id);
  });

  test("a thousand followers that go away while the daemon waits for them leave no fd behind", async () => {
    // Several MB of log, and still running: each follower fills its socket and then waits.
    const id = rt("run", "-d", TEST_IMAGE_NAME, "sh", "-c", "seq 300000; sleep 600").out.trim();
    for (let i = 0; i < 100 && !rt("logs", "--tail", "1", id).out.startsWith("300000"); i++)
      await sleep(100);
    await abortedFollow(id); // the first one's one-off costs (index, watchers) out of the count
    await sleep(500);
    const before = daemonFds();
    for (let batch = 0; batch < 50; batch++)
      await Promise.all(Array.from({ length: 20 }, () => abortedFollow(id)));
    // The daemon sees each close asynchronously: wait (bounded) for it to settle.
    let after = daemonFds();
    for (let i = 0; i < 100 && after > before + 2; i++) {
      await sleep(100);
      after = daemonFds();
    }
    assert.ok(after <= before + 2, `daemon fds ${before} before, ${after} after`);
    rt("rm", "-f", id);
  });

  test("rotation loses no line: the rotated files and the live one hold every line once, in order", () => {
    // 100 bursts of 1000 numbered lines, written as fast as seq can while the keeper rotates.
    const id = rt(
      "run",
      "-d",
      "--log-opt",
      "max-size=16k",
      "--log-opt",
      "max-file=1000",
      TEST_IMAGE_NAME,
      "sh",
      "-c",
      "b=0; while [ $b -lt 100 ]; do seq $((b*1000)) $((b*1000+999)); b=$((b+1)); sleep 0.02; done",
    ).out.trim();
    assert.equal(rt("wait", id).out.trim(), "0");
    const [info] = JSON.parse(rt("inspect", id).out) as [{ LogPath: string }];
    const dir = dirname(info.LogPath);
    const rotated = readdirSync(dir)
      .map((f) => /^console\.log\.(\d+)$/.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => b - a);
    assert.ok(rotated.length > 5, `rotated ${rotated.length} times`);
    const files = [...rotated.map((n) => `${info.LogPath}.${n}`), info.LogPath];
    const all = files.map((f) => readFileSync(f, "latin1")).join("");
    assert.ok(all === seq(0, 99999), "every number once, in order");
    assert.ok(rt("logs", id).out === all, "logs reads the files as one");
    rt("rm", id);
  });
});
