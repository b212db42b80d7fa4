// Docker's restart policies: whether a container that exited starts again, and after how long.
import type { ContainerRecord } from "../container/record.js";

/** Milliseconds to wait before restarting `r`, which has just exited; undefined: it stays exited. */
export function restartDelayMs(r: ContainerRecord): number | undefined {
  const policy = r.request.restartPolicy;
  const restart =
    !r.state.stoppedByUser &&
    (policy.name === "always" ||
      policy.name === "unless-stopped" ||
      (policy.name === "on-failure" &&
        r.state.exitCode !== 0 &&
        (policy.maximumRetryCount === 0 || r.state.restartCount < policy.maximumRetryCount)));
  if (!restart) return undefined;
  // Docker's backoff: 100 ms doubling, capped; reset after 10 s of running.
  const ranMs = Date.parse(r.state.finishedAt) - Date.parse(r.state.startedAt);
  return ranMs > 10000 ? 100 : Math.min(100 * 2 ** Math.min(r.state.restartCount, 10), 60000);
}
