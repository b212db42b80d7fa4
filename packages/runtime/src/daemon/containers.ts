// The container service: create, start, stop, kill, remove, pause, wait; records every change
// atomically and emits lifecycle events (the agent forwards them to the web app).
import { EventEmitter } from "node:events";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { constants as osConstants } from "node:os";
import { createCgroupManager } from "../cgroups/index.js";
import { cgroupParent } from "../paths.js";
import { createRequestSchema } from "../container/config.js";
import { deviceRule } from "../container/devices.js";
import type { InitSpec } from "../container/init-spec.js";
import { cgroupLimitsFor, initSpecFor } from "../container/start-spec.js";
import { prepareContainerDir, writeNetworkFiles } from "../container/container-dir.js";
import { ContainerRecords, type ContainerRecord } from "../container/record.js";
import { KeyedMutex } from "../util/mutex.js";
import { processStartTime } from "../util/proc.js";
import { UserError } from "../util/errors.js";
import { InitError, type InitPool } from "./init-pool.js";
import { LogKeeper, logLimits } from "./log-keeper.js";
import { DEFAULT_NETWORK, NetworkManager, type NetworkAttachment } from "../network/manager.js";
import type { PortRequest } from "../network/port-spec.js";
import type { WindowSize } from "../exec/pty.js";
import type { VolumeStore } from "./volumes.js";
import { daemonLog } from "./faults.js";
import { holdTerminal, stdinPipeInput, type ContainerInput } from "./container-input.js";
import { autoRemovable, markInFlight, settleInterrupted, unreadableRecords } from "./reconcile.js";
import { newContainerRecord, type ImageForRun } from "./new-record.js";
import { restartDelayMs } from "./restart-policy.js";
import { AdoptedContainers } from "./adopted.js";

/** What the container service needs from the image store. */
export interface ImageProvider {
  resolveForRun(ref: string): Promise<
    ImageForRun & {
      /** Ends the hold on the image's layers (once the container using them is registered). */
      release(): void;
    }
  >;
}

export interface ContainerEvent {
  type:
    | "create"
    | "start"
    | "die"
    | "oom"
    | "stop"
    | "kill"
    | "pause"
    | "unpause"
    | "destroy"
    | "restart";
  id: string;
  name: string;
  image: string;
  time: string;
  exitCode?: number;
  oomKilled?: boolean;
  signal?: string;
}

function signalNumber(signal: string | number): number {
  if (typeof signal === "number") return signal;
  if (/^[0-9]+$/.test(signal)) return Number(signal);
  const name = signal.toUpperCase().startsWith("SIG")
    ? signal.toUpperCase()
    : `SIG${signal.toUpperCase()}`;
  const n = (osConstants.signals as Record<string, number>)[name];
  if (n === undefined)
    throw new UserError(`invalid signal: ${signal} (use a name like SIGTERM or a number)`);
  return n;
}

export class ContainerService extends EventEmitter {
  private readonly records: ContainerRecords;
  private readonly byId = new Map<string, ContainerRecord>();
  private readonly mutex = new KeyedMutex();
  private readonly exitWaiters = new Map<string, (() => void)[]>();
  private readonly adopted = new AdoptedContainers(
    (id) => this.containerDir(id),
    (id) => this.byId.get(id),
    (id) => this.onExit(id),
  );
  /** Indexes and rotates running containers' logs; readers ask it to index what they read. */
  readonly logs = new LogKeeper();
  private readonly inputs = new Map<string, ContainerInput>();

  constructor(
    private readonly root: string,
    private readonly pool: InitPool,
    private readonly images: ImageProvider,
    private readonly volumes: VolumeStore,
    readonly network: NetworkManager = new NetworkManager(root),
  ) {
    super();
    this.records = new ContainerRecords(root);
  }

  /** Under `corral` for the host's runtime, its own parent for any other state root (paths.ts). */
  cgroupOf(id: string): ReturnType<typeof createCgroupManager> {
    return createCgroupManager(`${cgroupParent(this.root)}/${id}`);
  }

  // ---- lookup -------------------------------------------------------------------------

  list(all: boolean): ContainerRecord[] {
    const records = [...this.byId.values()].sort((a, b) => b.created.localeCompare(a.created));
    return all
      ? records
      : records.filter((r) => r.state.status === "running" || r.state.status === "paused");
  }

  /** By full id, unique id prefix, or name (Docker's rules). */
  get(ref: string): ContainerRecord {
    const byName = [...this.byId.values()].find((r) => r.name === ref.replace(/^\//, ""));
    if (byName) return byName;
    const exact = this.byId.get(ref);
    if (exact) return exact;
    const matches = [...this.byId.keys()].filter((id) => ref.length > 0 && id.startsWith(ref));
    if (matches.length === 1) return this.byId.get(matches[0] as string) as ContainerRecord;
    if (matches.length > 1)
      throw new UserError(`multiple containers match "${ref}": give more of the id`, 409);
    throw new UserError(`No such container: ${ref}`, 404);
  }

  imagesInUse(): Set<string> {
    return new Set([...this.byId.values()].map((r) => r.imageId));
  }

  /** Layer directories some container's rootfs is made of: never garbage. */
  layerDirsInUse(): Set<string> {
    return new Set([...this.byId.values()].flatMap((r) => r.layerDirs));
  }

  containerDir(id: string): string {
    return this.records.containerDir(id);
  }

  logPath(id: string): string {
    return join(this.records.containerDir(id), "console.log");
  }

  // ---- daemon start: re-adopt what runs ------------------------------------------------

  /** Loads every record; containers still running are adopted, exits that happened meanwhile recorded. */
  async recover(): Promise<void> {
    const { records, incomplete, unreadable } = this.records.loadAll();
    for (const id of incomplete) this.records.remove(id); // a create that crashed half-way
    for (const r of records) this.byId.set(r.id, r);
    for (const r of unreadableRecords(unreadable, records)) this.byId.set(r.id, r);
    for (const r of await settleInterrupted(
      records,
      (id) => this.containerDir(id),
      cgroupParent(this.root),
    ))
      this.records.save(r);
    for (const r of records) {
      if (
        r.state.status !== "running" &&
        r.state.status !== "paused" &&
        r.state.status !== "restarting"
      )
        continue;
      if (existsSync(join(this.containerDir(r.id), "exit"))) {
        await this.onExit(r.id);
      } else if (r.state.pid && processStartTime(r.state.pid) === r.state.pidStartTime) {
        this.adopted.add(r.id);
        this.logs.watch(r.id, this.logPath(r.id), logLimits(r.request));
        const adopted = await this.network.adopt(r, r.state.networks ?? [], r.state.ports ?? []);
        if (adopted.warning) {
          daemonLog(`container ${r.name}: ${adopted.warning}`);
          r.state.ports = adopted.ports; // what the firewall still forwards
          this.records.save(r);
        }
      } else {
        await this.onExit(r.id);
      }
    }
    for (const r of records.filter(autoRemovable))
      await this.remove(r.id, { force: true, volumes: true }).catch(() => undefined);
    this.adopted.watch();
  }

  close(): void {
    this.adopted.close();
    this.logs.close();
  }

  // ---- create ---------------------------------------------------------------------------

  async create(input: unknown): Promise<ContainerRecord> {
    const leases: (() => void)[] = [];
    try {
      return await this.createLeased(input, leases);
    } finally {
      for (const release of leases) release();
    }
  }

  /** `leases`: what to release once the container is registered (or its create failed). */
  private async createLeased(input: unknown, leases: (() => void)[]): Promise<ContainerRecord> {
    const parsed = createRequestSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UserError(
        `invalid container config: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? ""}`,
      );
    }
    const req = parsed.data;
    return this.mutex.run("names", async () => {
      if (req.name && [...this.byId.values()].some((r) => r.name === req.name)) {
        const other = [...this.byId.values()].find((r) => r.name === req.name) as ContainerRecord;
        throw new UserError(
          `Conflict. The container name "/${req.name}" is already in use by container "${other.id}". You have to remove (or rename) that container to be able to reuse that name.`,
          409,
        );
      }
      let image;
      try {
        image = await this.images.resolveForRun(req.image);
        leases.push(image.release);
      } catch (err) {
        throw new UserError(
          `Unable to find image '${req.image}' locally: ${(err as Error).message}`,
          404,
        );
      }
      const record = newContainerRecord(req, image, {
        network: this.network,
        volumes: this.volumes,
        nameTaken: (name) => [...this.byId.values()].some((r) => r.name === name),
      });
      signalNumber(record.process.stopSignal);
      prepareContainerDir(this.containerDir(record.id), record);
      // Until the client has the id (the route ends the mark once the response is out).
      markInFlight(this.containerDir(record.id));
      this.records.save(record);
      this.byId.set(record.id, record);
      this.emitEvent("create", record);
      return record;
    });
  }

  // ---- start ----------------------------------------------------------------------------

  start(ref: string, size: WindowSize = { cols: 80, rows: 24 }): Promise<ContainerRecord> {
    const r = this.get(ref);
    return this.mutex.run(r.id, () => this.startLocked(r, size));
  }

  /** Where attached input goes: the terminal (-t) or the stdin pipe (-i), if the container has one. */
  input(id: string): ContainerInput | undefined {
    return this.inputs.get(id);
  }

  private async startLocked(
    r: ContainerRecord,
    size: WindowSize = { cols: 80, rows: 24 },
  ): Promise<ContainerRecord> {
    if (r.state.status === "running" || r.state.status === "paused") return r;
    if (r.state.status === "dead")
      throw new UserError(`cannot start ${r.name}: ${r.state.error}`, 409);
    // A daemon that dies from here on leaves the mark: the next one settles the start.
    const started = markInFlight(this.containerDir(r.id));
    try {
      return await this.startMarked(r, size);
    } finally {
      started();
    }
  }

  private async startMarked(r: ContainerRecord, size: WindowSize): Promise<ContainerRecord> {
    const dir = this.containerDir(r.id);
    rmSync(join(dir, "exit"), { force: true });
    const cgroup = this.cgroupOf(r.id);
    let warnings: string[];
    try {
      ({ warnings } = await cgroup.create(
        cgroupLimitsFor(r.request),
        r.request.devices.map(deviceRule),
      ));
      for (const w of warnings) daemonLog(`container ${r.name}: ${w}`);
    } catch (err) {
      await cgroup.destroy().catch(() => undefined);
      throw new UserError((err as Error).message);
    }
    let spec: InitSpec;
    try {
      spec = initSpecFor(r, dir, this.logPath(r.id));
    } catch (err) {
      await cgroup.destroy().catch(() => undefined);
      throw err;
    }
    const hostNetwork = r.request.network === "host";
    const warm = await (hostNetwork ? this.pool.takeInHostNetwork() : this.pool.take());
    warm.shim.once("exit", () => void this.onExit(r.id));
    const before = r.state;
    r.state = {
      ...r.state,
      status: "running",
      pid: warm.hostPid,
      pidStartTime: warm.startTime,
      shimPid: warm.shim.pid ?? 0,
      exitCode: 0,
      oomKilled: false,
      error: "",
      startedAt: new Date().toISOString(),
      finishedAt: r.state.finishedAt,
      stoppedByUser: false,
      warnings,
    };
    try {
      await cgroup.addProcess(warm.hostPid);
      if (r.endpoints.length > 0) {
        // The init waits in its own network namespace: give it its interfaces before it
        // becomes the container.
        const { attachments, ports, eth0 } = await this.network.connectAtStart(
          r,
          warm.hostPid,
          warm.slotId,
          r.endpoints,
          this.publishRequests(r),
        );
        r.state.networks = attachments;
        r.state.ports = ports;
        spec.network = eth0;
        const resolv = this.network.resolvConf(attachments[0]?.network ?? DEFAULT_NETWORK);
        writeNetworkFiles(dir, r.process.hostname, attachments[0]?.ipAddress, resolv);
      } else if (!hostNetwork) {
        this.network.unwire(warm.slotId);
      }
      this.records.save(r);
      // The daemon's slave fd keeps the pty alive for the container's run (holdTerminal); it is
      // let go here only if the start failed.
      let releaseSlave: (() => void) | undefined;
      let launched = false;
      try {
        await warm.launch(spec, dir, {
          onRootfs: () => {
            const held = holdTerminal(r.name, warm.hostPid, size, this.logPath(r.id));
            this.inputs.set(r.id, held.input);
            releaseSlave = held.releaseSlave;
            return held.pty.index;
          },
          keepStdin: r.request.openStdin && !r.request.tty,
        });
        launched = true;
      } finally {
        if (!launched) releaseSlave?.();
        // The replacement init starts once this start has returned, off its path.
        setImmediate(() => this.pool.fill());
      }
      if (r.request.openStdin && !r.request.tty) {
        this.inputs.set(r.id, stdinPipeInput(warm.stdin));
      }
    } catch (err) {
      // As Docker: a start that failed leaves the container as it was (created, or exited from
      // its last run) with the reason in State.Error; it never ran, so no exit is recorded
      // (onExit sees it is not running) and no restart policy applies.
      const exitCode = err instanceof InitError ? err.exitCode : 125;
      const message = (err as Error).message;
      r.state = {
        ...before,
        error: message,
        exitCode,
        pid: 0,
        networks: undefined,
        ports: undefined,
      };
      this.records.save(r);
      try {
        process.kill(warm.hostPid, "SIGKILL");
      } catch {
        // already gone
      }
      this.network.forgetSlot(warm.slotId);
      await this.releaseNetwork(r);
      await cgroup.destroy().catch(() => undefined);
      if (r.request.autoRemove)
        void this.remove(r.id, { force: true, volumes: true }).catch(() => undefined);
      throw new StartError(exitCode, message, err);
    }
    this.logs.watch(r.id, this.logPath(r.id), logLimits(r.request));
    this.emitEvent("start", r);
    return r;
  }

  /** -p as given, then -P: each exposed port not published yet, on a free host port. */
  private publishRequests(r: ContainerRecord): PortRequest[] {
    const requests: PortRequest[] = [...r.request.publish];
    if (r.request.publishAll) {
      for (const exposed of r.exposedPorts) {
        const [port = "", protocol = "tcp"] = exposed.split("/");
        const containerPort = Number(port);
        if (requests.some((p) => p.containerPort === containerPort && p.protocol === protocol))
          continue;
        requests.push({
          hostIp: "",
          hostPort: 0,
          containerPort,
          protocol: protocol === "udp" ? "udp" : "tcp",
        });
      }
    }
    return requests;
  }

  // ---- networks -------------------------------------------------------------------------

  /** Names of the containers (running or not) that join `network` when they run. */
  networkUsers(network: string): string[] {
    return [...this.byId.values()]
      .filter((r) => r.endpoints.some((e) => e.network === network))
      .map((r) => r.name);
  }

  /** `network connect`: joins now if the container runs, and at every start from now on. */
  connectNetwork(ref: string, network: string, aliases: string[]): Promise<ContainerRecord> {
    const r = this.get(ref);
    return this.mutex.run(r.id, async () => {
      const mode = r.request.network;
      if (mode === "host" || mode === "none")
        throw new UserError(
          `container ${r.name} runs with --network ${mode} and cannot join other networks`,
          409,
        );
      const info = this.network.find(network);
      if (!info.config)
        throw new UserError(`container cannot be connected to the ${info.name} network`, 409);
      if (r.endpoints.some((e) => e.network === info.name))
        throw new UserError(
          `endpoint with name ${r.name} already exists in network ${info.name}`,
          409,
        );
      if (aliases.length > 0 && info.name === DEFAULT_NETWORK)
        throw new UserError("network-scoped aliases are only supported for user-defined networks");
      const endpoint = { network: info.name, aliases };
      if (r.state.status === "running" || r.state.status === "paused") {
        const attachment = await this.network.connectRunning(r, r.state.pid, endpoint);
        r.state.networks = [...(r.state.networks ?? []), attachment];
      }
      r.endpoints = [...r.endpoints, endpoint];
      this.records.save(r);
      return r;
    });
  }

  /** `network disconnect`: leaves now if it runs, and stays off. */
  disconnectNetwork(ref: string, network: string): Promise<ContainerRecord> {
    const r = this.get(ref);
    return this.mutex.run(r.id, async () => {
      const info = this.network.find(network);
      if (!r.endpoints.some((e) => e.network === info.name))
        throw new UserError(`container ${r.name} is not connected to network ${info.name}`, 404);
      await this.network.disconnectRunning(r.id, info.name);
      r.state.networks = r.state.networks?.filter(
        (a: NetworkAttachment) => a.network !== info.name,
      );
      r.endpoints = r.endpoints.filter((e) => e.network !== info.name);
      this.records.save(r);
      return r;
    });
  }

  // ---- exit -----------------------------------------------------------------------------

  private onExit(id: string): Promise<void> {
    return this.mutex.run(id, async () => {
      const r = this.byId.get(id);
      if (
        !r ||
        (r.state.status !== "running" &&
          r.state.status !== "paused" &&
          r.state.status !== "restarting")
      )
        return;
      this.logs.unwatch(id);
      await this.inputs.get(id)?.close();
      this.inputs.delete(id);
      await this.releaseNetwork(r);
      const exitFile = join(this.containerDir(id), "exit");
      let exitCode = -1;
      let finishedAt = new Date().toISOString();
      let error = r.state.error;
      if (existsSync(exitFile)) {
        exitCode = Number(readFileSync(exitFile, "utf8").trim());
        finishedAt = statSync(exitFile).mtime.toISOString();
      } else {
        error = `exit code unknown: the container's monitor (pid ${r.state.shimPid}) ended without recording it`;
      }
      const cgroup = this.cgroupOf(id);
      let oomKilled = false;
      try {
        oomKilled = (await cgroup.oomKilled()) > 0;
      } catch {
        // cgroup already gone (e.g. removed by hand)
      }
      await cgroup.destroy().catch(() => undefined);
      r.state = {
        ...r.state,
        status: "exited",
        pid: 0,
        exitCode,
        oomKilled,
        finishedAt,
        error,
        networks: undefined,
        ports: undefined,
      };
      this.records.save(r);
      if (oomKilled) this.emitEvent("oom", r);
      this.emitEvent("die", r, { exitCode, oomKilled });
      for (const w of this.exitWaiters.get(id) ?? []) w();
      this.exitWaiters.delete(id);
      this.afterExit(r);
    });
  }

  /**
   * Addresses and ports back to the pools. A failure (nft) is logged, not thrown: the exit
   * must be recorded; the firewall is rendered whole again at the next network change.
   */
  private async releaseNetwork(r: ContainerRecord): Promise<void> {
    try {
      await this.network.release(r.id);
    } catch (err) {
      daemonLog(`container ${r.name}: releasing its network: ${(err as Error).message}`);
    }
  }

  private afterExit(r: ContainerRecord): void {
    if (r.request.autoRemove) {
      void this.remove(r.id, { force: true, volumes: true }).catch(() => undefined);
      return;
    }
    const delay = restartDelayMs(r);
    if (delay === undefined) return;
    r.state = { ...r.state, status: "restarting" };
    this.records.save(r);
    setTimeout(() => {
      void this.mutex.run(r.id, async () => {
        if (!this.byId.has(r.id) || r.state.status !== "restarting") return;
        r.state = { ...r.state, status: "exited", restartCount: r.state.restartCount + 1 };
        await this.startLocked(r).catch(() => undefined);
        this.emitEvent("restart", r);
      });
    }, delay).unref();
  }

  /** Resolves with the exit code once the container is not running. */
  wait(ref: string): Promise<number> {
    return this.waitRecord(this.get(ref));
  }

  /** Like wait, on a record held by the caller: works even if --rm removes it meanwhile. */
  async waitRecord(r: ContainerRecord): Promise<number> {
    while (
      r.state.status === "running" ||
      r.state.status === "paused" ||
      r.state.status === "restarting"
    ) {
      await new Promise<void>((resolve) => {
        const list = this.exitWaiters.get(r.id) ?? [];
        list.push(resolve);
        this.exitWaiters.set(r.id, list);
      });
      if (r.state.status === "restarting") continue;
    }
    return r.state.exitCode;
  }

  private waitFor(id: string, timeoutMs: number): Promise<boolean> {
    const r = this.byId.get(id);
    if (!r || (r.state.status !== "running" && r.state.status !== "paused"))
      return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const list = this.exitWaiters.get(id) ?? [];
      list.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
      this.exitWaiters.set(id, list);
    });
  }

  // ---- stop, kill, pause ----------------------------------------------------------------

  async stop(ref: string, timeoutSeconds?: number): Promise<ContainerRecord> {
    const r = this.get(ref);
    if (r.state.status === "restarting") {
      r.state = { ...r.state, status: "exited", stoppedByUser: true };
      this.records.save(r);
    }
    if (r.state.status !== "running" && r.state.status !== "paused") return r;
    r.state.stoppedByUser = true;
    this.records.save(r);
    const timeout = timeoutSeconds ?? r.request.stopTimeoutSeconds ?? 10;
    this.signal(r, signalNumber(r.process.stopSignal));
    if (!(await this.waitFor(r.id, timeout * 1000))) {
      this.signal(r, 9);
      await this.waitFor(r.id, 30000);
    }
    this.emitEvent("stop", r);
    return r;
  }

  async kill(ref: string, signal: string | number = "SIGKILL"): Promise<ContainerRecord> {
    const r = this.get(ref);
    if (r.state.status !== "running" && r.state.status !== "paused") {
      throw new UserError(`Container ${r.id} is not running`, 409);
    }
    const n = signalNumber(signal);
    r.state.stoppedByUser = true;
    this.records.save(r);
    this.signal(r, n);
    this.emitEvent("kill", r, { signal: String(signal) });
    if (n === 9) await this.waitFor(r.id, 30000);
    return r;
  }

  private signal(r: ContainerRecord, n: number): void {
    try {
      process.kill(r.state.pid, n);
    } catch {
      // exited meanwhile
    }
    // A frozen task cannot act on a signal until thawed (v1 freezer).
    if (r.state.status === "paused" && (n === 9 || n === 15)) {
      void this.cgroupOf(r.id)
        .thaw()
        .catch(() => undefined);
    }
  }

  pause(ref: string): Promise<ContainerRecord> {
    const r = this.get(ref);
    return this.mutex.run(r.id, async () => {
      if (r.state.status !== "running")
        throw new UserError(`Container ${r.id} is not running`, 409);
      await this.cgroupOf(r.id).freeze();
      r.state = { ...r.state, status: "paused" };
      this.records.save(r);
      this.emitEvent("pause", r);
      return r;
    });
  }

  unpause(ref: string): Promise<ContainerRecord> {
    const r = this.get(ref);
    return this.mutex.run(r.id, async () => {
      if (r.state.status !== "paused") throw new UserError(`Container ${r.id} is not paused`, 409);
      await this.cgroupOf(r.id).thaw();
      r.state = { ...r.state, status: "running" };
      this.records.save(r);
      this.emitEvent("unpause", r);
      return r;
    });
  }

  async restart(ref: string, timeoutSeconds?: number): Promise<ContainerRecord> {
    const r = await this.stop(ref, timeoutSeconds);
    return this.start(r.id);
  }

  // ---- remove ---------------------------------------------------------------------------

  async remove(ref: string, opts: { force: boolean; volumes: boolean }): Promise<void> {
    const r = this.get(ref);
    if (r.state.status === "running" || r.state.status === "paused") {
      if (!opts.force) {
        throw new UserError(
          `cannot remove container "${r.name}": container is ${r.state.status}: stop the container before removing or force remove (rm -f)`,
          409,
        );
      }
      await this.kill(r.id, 9);
    }
    await this.mutex.run(r.id, async () => {
      if (!this.byId.has(r.id)) return;
      r.state = { ...r.state, status: "dead" };
      await this.cgroupOf(r.id)
        .destroy()
        .catch(() => undefined);
      this.byId.delete(r.id);
      this.records.remove(r.id);
      if (opts.volumes) {
        for (const m of r.mounts)
          if (m.anonymous && m.name) this.volumes.remove(m.name, () => false);
      }
      this.emitEvent("destroy", r);
    });
  }

  volumeInUse(name: string): boolean {
    return [...this.byId.values()].some((r) => r.mounts.some((m) => m.name === name));
  }

  private emitEvent(
    type: ContainerEvent["type"],
    r: ContainerRecord,
    extra: Partial<ContainerEvent> = {},
  ): void {
    const event: ContainerEvent = {
      type,
      id: r.id,
      name: r.name,
      image: r.imageRef,
      time: new Date().toISOString(),
      ...extra,
    };
    this.emit("event", event);
  }
}

/**
 * A start that failed: Docker's exit code for the CLI (125 the runtime's, 126/127 the command's)
 * and the HTTP status of its cause, so a port or name another container holds stays a 409 (the
 * user's conflict to resolve) instead of turning into a 400 on its way out.
 */
export class StartError extends UserError {
  constructor(
    readonly exitCode: number,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause instanceof UserError ? cause.status : 400);
    this.name = "StartError";
  }
}
