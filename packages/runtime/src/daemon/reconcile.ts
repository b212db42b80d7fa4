// Crash recovery at daemon start: what a kill -9 of the daemon (or a power cut) can leave
// half-made, and how each piece comes back. ContainerService.recover() calls these; they keep
// the service itself about the lifecycle.
import { existsSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createCgroupManager } from "../cgroups/index.js";
import { CONTAINER_NAME, createRequestSchema } from "../container/config.js";
import {
  initialState,
  ZERO_TIME,
  type ContainerRecord,
  type UnreadableRecord,
} from "../container/record.js";
import { processStartTime } from "../util/proc.js";
import { daemonLog } from "./faults.js";

export const INTERRUPTED_START = "corral-rtd stopped while creating it";

/**
 * Present while a create (until its client has the id) or a start is in flight: a daemon that
 * dies meanwhile leaves it behind, and the next one settles the container.
 */
const IN_FLIGHT = "in-flight";

/**
 * Marks the container in `dir` as being made; returns the function that ends the mark. Not
 * fsynced: it only has to survive the daemon, not the machine (a reboot ends every start).
 */
export function markInFlight(dir: string): () => void {
  writeFileSync(join(dir, IN_FLIGHT), "");
  return () => endInFlight(dir);
}

/** Ends the mark of a create whose response is out (see markInFlight). */
export function endInFlight(dir: string): void {
  rmSync(join(dir, IN_FLIGHT), { force: true });
}

function alive(r: ContainerRecord): boolean {
  return r.state.pid > 0 && processStartTime(r.state.pid) === r.state.pidStartTime;
}

/**
 * Creates and starts the daemon did not finish: the container goes back to where it was (created, or
 * exited from an earlier run) with the reason in State.Error, and its cgroup goes (empty, or
 * holding an init that never got its spec). A container whose command runs (its process
 * lives) is left to the normal adoption.
 * Returns the records it changed, for the caller to save.
 */
export async function settleInterrupted(
  records: readonly ContainerRecord[],
  containerDir: (id: string) => string,
  cgroupParent: string,
): Promise<ContainerRecord[]> {
  const settled: ContainerRecord[] = [];
  for (const r of records) {
    const dir = containerDir(r.id);
    if (!existsSync(join(dir, IN_FLIGHT))) continue;
    // Its process gone (an exit file may say how: an init that lost the daemon mid-start
    // gives up) and the start never confirmed: it did not run as asked.
    if (!alive(r)) {
      rmSync(join(dir, "exit"), { force: true });
      const ranBefore = r.state.finishedAt !== ZERO_TIME;
      r.state = {
        ...r.state,
        status: ranBefore ? "exited" : "created",
        pid: 0,
        pidStartTime: "",
        shimPid: 0,
        exitCode: 125,
        error: INTERRUPTED_START,
        startedAt: ranBefore ? r.state.startedAt : ZERO_TIME,
        networks: undefined,
        ports: undefined,
      };
      await createCgroupManager(`${cgroupParent}/${r.id}`)
        .destroy()
        .catch(() => undefined);
      settled.push(r);
    }
    rmSync(join(dir, IN_FLIGHT), { force: true });
  }
  return settled;
}

/** Docker's rule at daemon start: a --rm container that is not running is removed. */
export function autoRemovable(r: ContainerRecord): boolean {
  return r.request.autoRemove && (r.state.status === "created" || r.state.status === "exited");
}

/** Stand-ins for the records that cannot be read, each said once in the daemon's log. */
export function unreadableRecords(
  unreadable: readonly UnreadableRecord[],
  records: readonly ContainerRecord[],
): ContainerRecord[] {
  const taken = new Set(records.map((r) => r.name));
  return unreadable.map((u) => {
    const r = unreadableRecord(u, taken);
    taken.add(r.name);
    daemonLog(`container ${u.id}: ${r.state.error}`);
    return r;
  });
}

/**
 * A record that cannot be read stands in for its container: dead, with the reason, so that
 * `ps -a` and `inspect` show it and `rm` removes it (and whatever still runs in its cgroup).
 * Its name, if a torn file still shows one that no other container has; else one from its id.
 */
function unreadableRecord(u: UnreadableRecord, taken: ReadonlySet<string>): ContainerRecord {
  const found = /"name":\s*"([^"]+)"/.exec(u.text)?.[1];
  const name =
    found && CONTAINER_NAME.test(found) && !taken.has(found)
      ? found
      : `unreadable_${u.id.slice(0, 12)}`;
  let created = ZERO_TIME;
  try {
    created = statSync(u.file).mtime.toISOString();
  } catch {
    // gone meanwhile: keep the zero time
  }
  return {
    id: u.id,
    name,
    created,
    imageId: "",
    imageRef: "",
    layerDirs: [],
    request: createRequestSchema.parse({ image: "unknown" }),
    process: { args: [], env: [], cwd: "/", user: "", hostname: "", stopSignal: "SIGKILL" },
    mounts: [],
    endpoints: [],
    exposedPorts: [],
    state: {
      ...initialState(),
      status: "dead",
      error: `its record ${u.file} cannot be read (${u.reason}): remove the container with corral-rt rm -f ${u.id.slice(0, 12)}`,
    },
  };
}
