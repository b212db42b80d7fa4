// The agent's memory stays bounded under churn (a shortened run of the hour-long benchmark the
// fleet issue asks for): containers created, followed, exec'd into, stopped and removed, while
// 1 Hz stats flow. The real agent process; its RSS after the churn is compared with its RSS
// after a warm-up doing the same.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { startRuntime, type TestRuntime } from "../../../packages/runtime/test/fixtures/runtime.js";
import { TEST_IMAGE_NAME } from "../../../packages/runtime/test/fixtures/images.js";
import { CREDENTIAL, WebDouble, waitFor } from "./fixtures/web-double.js";

const AGENT_MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const WARMUP_CYCLES = Number(process.env.AGENT_WARMUP_CYCLES ?? 20);
const CHURN_CYCLES = Number(process.env.AGENT_CHURN_CYCLES ?? 45);

let runtime: TestRuntime;
let agent: ChildProcess;
const web = new WebDouble();

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  assert.ok(m, "VmRSS");
  return Number(m[1]);
}

before(async () => {
  runtime = await startRuntime("agent-mem");
  await web.start();
  const data = join(runtime.base, "agent");
  mkdirSync(data, { recursive: true, mode: 0o700 });
  writeFileSync(
    join(data, "credential.json"),
    JSON.stringify({ server: web.url, hostId: "h1", credential: CREDENTIAL }),
    { mode: 0o600 },
  );
  agent = spawn(
    process.execPath,
    [AGENT_MAIN, "--server", web.url, "--data", data, "--name", "mem"],
    {
      env: runtime.env,
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  await waitFor("snapshot", () => web.snapshots[0]);
  // a long-running container, so that stats flow all along
  assert.equal(
    runtime.rt("run", "-d", "--name", "steady", TEST_IMAGE_NAME, "sleep", "1000").code,
    0,
  );
});

after(() => {
  agent?.kill("SIGKILL");
  web.close();
  runtime?.cleanup();
});

let n = 0;
async function cycle(): Promise<void> {
  const i = n++;
  const created = await web.command({
    type: "create",
    spec: {
      image: TEST_IMAGE_NAME,
      name: `churn-${i}`,
      cmd: ["sh", "-c", "while true; do echo tick; sleep 0.1; done"],
    },
  });
  assert.ok(created.ok, JSON.stringify(created));
  const id = (created.result as { container: { id: string } }).container.id;
  assert.ok((await web.command({ type: "start", id })).ok);
  const logs = `logs-${i}`;
  assert.ok((await web.command({ type: "logs", id, follow: true, tail: 5, streamId: logs })).ok);
  await waitFor("a log line", () => web.text(logs).includes("tick"));
  const exec = `exec-${i}`;
  assert.ok(
    (await web.command({ type: "exec", id, cmd: ["echo", "hi"], tty: false, streamId: exec })).ok,
  );
  await waitFor("exec end", () => web.streamEnds.get(exec));
  web.socket!.emit("stream:close", { streamId: logs });
  await waitFor("logs end", () => web.streamEnds.get(logs));
  assert.ok((await web.command({ type: "remove", id, force: true })).ok);
  // what the double keeps must not count against the agent; drop it
  web.streamData.delete(logs);
  web.streamData.delete(exec);
}

test(`the agent's RSS after ${CHURN_CYCLES} churn cycles stays within 10% of its RSS after warm-up`, async (t) => {
  // RSS moves with every garbage collection: compare the peaks of two windows (the warm-up's
  // second half, the churn's last third), not two single readings. A leak raises the peaks.
  const warmup: number[] = [];
  for (let i = 0; i < WARMUP_CYCLES; i++) {
    await cycle();
    warmup.push(rssKiB(agent.pid!));
  }
  const churn: number[] = [];
  for (let i = 0; i < CHURN_CYCLES; i++) {
    await cycle();
    churn.push(rssKiB(agent.pid!));
  }
  const warm = Math.max(...warmup.slice(Math.floor(WARMUP_CYCLES / 2)));
  const end = Math.max(...churn.slice(-Math.ceil(CHURN_CYCLES / 3)));
  t.diagnostic(
    `agent RSS peak: ${warm} KiB after warm-up, ${end} KiB at the end of the churn (${((end / warm - 1) * 100).toFixed(1)}%)`,
  );
  assert.ok(end <= warm * 1.1, `RSS peak grew from ${warm} KiB to ${end} KiB`);
  // every delta arrived, in order
  web.deltas.forEach((d, i) =>
    assert.equal(d.version.seq, web.snapshots.at(-1)!.version.seq + i + 1),
  );
});
