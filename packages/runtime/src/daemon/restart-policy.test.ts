import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequestSchema, type RestartPolicy } from "../container/config.js";
import { initialState, type ContainerRecord } from "../container/record.js";
import { restartDelayMs } from "./restart-policy.js";

/** A container that ran `ranMs` and exited with `exitCode` after `restartCount` restarts. */
function exited(
  policy: Partial<RestartPolicy>,
  state: { exitCode: number; restartCount?: number; ranMs?: number; stoppedByUser?: boolean },
): ContainerRecord {
  const startedAt = new Date(Date.UTC(2026, 0, 1));
  return {
    id: "0".repeat(64),
    name: "c",
    created: startedAt.toISOString(),
    imageId: "",
    imageRef: "busybox",
    layerDirs: [],
    request: createRequestSchema.parse({ image: "busybox", restartPolicy: policy }),
    process: { args: ["true"], env: [], cwd: "/", user: "", hostname: "h", stopSignal: "SIGTERM" },
    mounts: [],
    endpoints: [],
    exposedPorts: [],
    state: {
      ...initialState(),
      status: "exited",
      exitCode: state.exitCode,
      restartCount: state.restartCount ?? 0,
      stoppedByUser: state.stoppedByUser ?? false,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date(startedAt.getTime() + (state.ranMs ?? 50)).toISOString(),
    },
  };
}

test("no policy, or a stop by the user: the container stays exited", () => {
  assert.equal(restartDelayMs(exited({}, { exitCode: 1 })), undefined);
  assert.equal(
    restartDelayMs(exited({ name: "always" }, { exitCode: 0, stoppedByUser: true })),
    undefined,
  );
});

test("on-failure restarts only a failure, and only up to its maximum retry count", () => {
  assert.equal(restartDelayMs(exited({ name: "on-failure" }, { exitCode: 0 })), undefined);
  assert.equal(restartDelayMs(exited({ name: "on-failure" }, { exitCode: 3 })), 100);
  const limited = { name: "on-failure", maximumRetryCount: 2 } as const;
  assert.equal(restartDelayMs(exited(limited, { exitCode: 3, restartCount: 1 })), 200);
  assert.equal(restartDelayMs(exited(limited, { exitCode: 3, restartCount: 2 })), undefined);
});

test("the backoff doubles from 100 ms, is capped at a minute, and resets after 10 s of running", () => {
  const always = { name: "always" } as const;
  assert.equal(restartDelayMs(exited(always, { exitCode: 0, restartCount: 3 })), 800);
  assert.equal(restartDelayMs(exited(always, { exitCode: 0, restartCount: 30 })), 60000);
  assert.equal(
    restartDelayMs(exited(always, { exitCode: 0, restartCount: 30, ranMs: 10001 })),
    100,
  );
  assert.equal(
    restartDelayMs(exited({ name: "unless-stopped" }, { exitCode: 137, restartCount: 1 })),
    200,
  );
});
