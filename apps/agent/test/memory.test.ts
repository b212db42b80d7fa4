// The agent's memory stays bounded under churn: a shortened run of the hour-long benchmark
// (`npm run bench:agent-memory`). Containers are created, started, sampled at 1 Hz (each one's
// stats must reach the web), followed and exec'd into, stopped and removed (test/fixtures/
// churn.ts), by the real agent process; its RSS after the churn is compared with its RSS after
// a warm-up doing the same.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startChurnRig, type ChurnRig } from "./fixtures/churn.ts";

const WARMUP_CYCLES = Number(process.env.AGENT_WARMUP_CYCLES ?? 20);
const CHURN_CYCLES = Number(process.env.AGENT_CHURN_CYCLES ?? 45);

let rig: ChurnRig;

before(async () => {
  rig = await startChurnRig("agent-mem");
});

after(() => rig?.cleanup());

test(`the agent's RSS after ${CHURN_CYCLES} churn cycles stays within 10% of its RSS after warm-up`, async (t) => {
  // RSS moves with every garbage collection: compare the peaks of two windows (the warm-up's
  // second half, the churn's last third), not two single readings. A leak raises the peaks.
  const warmup: number[] = [];
  for (let i = 0; i < WARMUP_CYCLES; i++) {
    await rig.cycle();
    warmup.push(rig.rssKiB());
  }
  const churn: number[] = [];
  for (let i = 0; i < CHURN_CYCLES; i++) {
    await rig.cycle();
    churn.push(rig.rssKiB());
  }
  const warm = Math.max(...warmup.slice(Math.floor(WARMUP_CYCLES / 2)));
  const end = Math.max(...churn.slice(-Math.ceil(CHURN_CYCLES / 3)));
  t.diagnostic(
    `agent RSS peak: ${warm} KiB after warm-up, ${end} KiB at the end of the churn (${((end / warm - 1) * 100).toFixed(1)}%)`,
  );
  assert.ok(end <= warm * 1.1, `RSS peak grew from ${warm} KiB to ${end} KiB`);
  // the churn was real: every container's stats reached the web, every delta arrived in order
  assert.equal(rig.churnedSamples(), WARMUP_CYCLES + CHURN_CYCLES);
  const { web } = rig;
  web.deltas.forEach((d, i) =>
    assert.equal(d.version.seq, web.snapshots.at(-1)!.version.seq + i + 1),
  );
});
