// What the runtime knows about one container, persisted as <root>/containers/<id>/container.json.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomicSync } from "../util/atomic-file.js";
import type { CreateRequest } from "./config.js";
import type { EndpointRequest, NetworkAttachment } from "../network/manager.js";
import type { PortBinding } from "../network/port-spec.js";

export type ContainerStatus = "created" | "running" | "paused" | "restarting" | "exited" | "dead";

export interface ContainerState {
  status: ContainerStatus;
  /** Host pid of the container's first process; 0 when not running. */
  pid: number;
  /** /proc/PID/stat start time of `pid`, to tell it from a reused pid after a daemon restart. */
  pidStartTime: string;
  /** The shell that waits for the container and records its exit code. */
  shimPid: number;
  exitCode: number;
  oomKilled: boolean;
  error: string;
  startedAt: string;
  finishedAt: string;
  restartCount: number;
  /** The container's interfaces and addresses while it runs, one per network. */
  networks?: NetworkAttachment[];
  /** Its published ports while it runs (host ports chosen by then). */
  ports?: PortBinding[];
  /** Set by `stop`/`kill` so that restart policies know the user asked for it. */
  stoppedByUser: boolean;
  /** What the last start could not apply (e.g. a missing cgroup controller); also logged. */
  warnings?: string[];
}

export interface ContainerMount {
  type: "bind" | "volume" | "tmpfs";
  /** Host path (bind, volume) or "" (tmpfs). */
  source: string;
  target: string;
  readOnly: boolean;
  /** Volume name; anonymous volumes are removed with the container by `rm -v` and `--rm`. */
  name?: string;
  anonymous?: boolean;
  options?: string;
  /** A volume that, empty at the first start, gets a copy of the image's files at the target. */
  copyUp?: boolean;
}

export interface ContainerRecord {
  id: string;
  name: string;
  created: string;
  imageId: string;
  /** The reference the user gave (`busybox`), shown by `ps`. */
  imageRef: string;
  /** The image's layer directories (top first), resolved once at create. */
  layerDirs: string[];
  request: CreateRequest;
  /** The process after merging the image's config with the request. */
  process: {
    args: string[];
    env: string[];
    cwd: string;
    user: string;
    hostname: string;
    stopSignal: string;
  };
  mounts: ContainerMount[];
  /** The bridge networks it joins when it starts (changed by network connect/disconnect). */
  endpoints: EndpointRequest[];
  /** Exposed ports ("80/tcp"): the image's and --expose's; -P publishes them. */
  exposedPorts: string[];
  state: ContainerState;
}

export const ZERO_TIME = "0001-01-01T00:00:00Z";

export function initialState(): ContainerState {
  return {
    status: "created",
    pid: 0,
    pidStartTime: "",
    shimPid: 0,
    exitCode: 0,
    oomKilled: false,
    error: "",
    startedAt: ZERO_TIME,
    finishedAt: ZERO_TIME,
    restartCount: 0,
    stoppedByUser: false,
  };
}

/** A record as an earlier release may have written it. */
type StoredRecord = Omit<ContainerRecord, "endpoints" | "exposedPorts" | "request" | "state"> & {
  endpoints?: EndpointRequest[];
  exposedPorts?: string[];
  request: Omit<
    CreateRequest,
    | "networkAliases"
    | "publish"
    | "publishAll"
    | "expose"
    | "noNewPrivileges"
    | "devices"
    | "capAdd"
    | "capDrop"
  > &
    Partial<CreateRequest>;
  state: ContainerState & {
    /** The first release's one attachment (default bridge), before `networks`. */
    network?: Omit<NetworkAttachment, "networkId" | "ifName" | "aliases" | "hostVeth"> & {
      hostVeth?: string;
    };
  };
};

/** Fills what records of the first networking release lack (their request had bridge|none). */
function upgrade(stored: StoredRecord): ContainerRecord {
  const request: CreateRequest = {
    ...stored.request,
    networkAliases: stored.request.networkAliases ?? [],
    publish: stored.request.publish ?? [],
    publishAll: stored.request.publishAll ?? false,
    expose: stored.request.expose ?? [],
    noNewPrivileges: stored.request.noNewPrivileges ?? true,
    devices: stored.request.devices ?? [],
    capAdd: stored.request.capAdd ?? [],
    capDrop: stored.request.capDrop ?? [],
  };
  const { network: old, ...state } = stored.state;
  if (old && !state.networks) {
    state.networks = [
      {
        ...old,
        networkId: "",
        ifName: "eth0",
        aliases: [],
        // That release named the host end after the container: reconcile must know it is its.
        hostVeth: old.hostVeth ?? `vc${stored.id.slice(0, 12)}`,
      },
    ];
  }
  const mode = request.network === "default" ? "bridge" : request.network;
  return {
    ...stored,
    request,
    endpoints:
      stored.endpoints ??
      (mode === "host" || mode === "none" ? [] : [{ network: mode, aliases: [] }]),
    exposedPorts: stored.exposedPorts ?? [],
    state,
  };
}

export interface UnreadableRecord {
  id: string;
  file: string;
  /** What could be read of it (a name may still be found in a torn file). */
  text: string;
  reason: string;
}

/** A stored record, checked for what the daemon cannot do without. */
function parseRecord(id: string, text: string): ContainerRecord {
  const stored = JSON.parse(text) as StoredRecord | null;
  if (typeof stored !== "object" || stored === null) throw new Error("not a JSON object");
  if (stored.id !== id) throw new Error(`it names container ${String(stored.id)}, not ${id}`);
  for (const key of ["name", "request", "process", "state"] as const)
    if (typeof stored[key] !== (key === "name" ? "string" : "object") || stored[key] === null)
      throw new Error(`"${key}" is missing or malformed`);
  return upgrade(stored);
}

/** One directory per container; container.json is only ever replaced atomically. */
export class ContainerRecords {
  readonly dir: string;
  constructor(root: string) {
    this.dir = join(root, "containers");
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  containerDir(id: string): string {
    return join(this.dir, id);
  }

  save(record: ContainerRecord): void {
    writeFileAtomicSync(
      join(this.containerDir(record.id), "container.json"),
      JSON.stringify(record, null, 2),
    );
  }

  /**
   * Every container with a complete record; a directory without one was never created. A
   * record that cannot be read (torn, corrupt) is returned with the reason, never thrown: one
   * bad file must not keep every other container from coming back.
   */
  loadAll(): {
    records: ContainerRecord[];
    incomplete: string[];
    unreadable: UnreadableRecord[];
  } {
    const records: ContainerRecord[] = [];
    const incomplete: string[] = [];
    const unreadable: UnreadableRecord[] = [];
    for (const id of readdirSync(this.dir)) {
      const file = join(this.dir, id, "container.json");
      if (!existsSync(file)) {
        incomplete.push(id);
        continue;
      }
      let text = "";
      try {
        text = readFileSync(file, "utf8");
        records.push(parseRecord(id, text));
      } catch (err) {
        unreadable.push({ id, file, text, reason: (err as Error).message });
      }
    }
    return { records, incomplete, unreadable };
  }

  remove(id: string): void {
    rmSync(this.containerDir(id), { recursive: true, force: true });
  }
}
