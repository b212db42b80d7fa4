// Carries out the server's commands on this host through the runtime daemon's client. Each
// command's result goes back in the socket.io acknowledgement; pull, logs and exec also stream.
import { createInterface } from "node:readline";
import type { IncomingMessage } from "node:http";
import type {
  Command,
  CommandReply,
  ContainerInfo,
  HostFacts,
  ImageInfo,
  PullProgress,
  StreamData,
  StreamEnd,
  VolumeInfo,
} from "@corral/protocol";
import {
  ApiError,
  containerExecOptions,
  execInContainer,
  type ContainerView,
  type ImageSummary,
  type PullResult,
  type RuntimeClient,
  type TtyExec,
} from "@corral/runtime";
import {
  containerInfo,
  createRequest,
  imageInfo,
  networkInfo,
  volumeInfo,
  type DaemonInspect,
  volumeUsers,
  type DaemonNetwork,
  type DaemonPsRow,
  type DaemonVolume,
} from "./translate.js";

/** What a command handler sends back besides its acknowledgement. */
export interface CommandOutput {
  data(d: StreamData): void;
  progress(p: PullProgress): void;
  end(e: StreamEnd): void;
  /** the image list changed (pull, remove): a delta for the server */
  imagesChanged(): void;
  facts(): HostFacts;
}

interface OpenStream {
  close(): void;
  input?(data: Uint8Array | undefined, end: boolean): void;
  resize?(cols: number, rows: number): void;
}

const enc = encodeURIComponent;

export class CommandRunner {
  private readonly streams = new Map<string, OpenStream>();

  constructor(
    private readonly client: RuntimeClient,
    private readonly out: CommandOutput,
  ) {}

  async inspect(id: string): Promise<ContainerInfo> {
    return containerInfo(await this.client.call<DaemonInspect>("GET", `/v1/containers/${enc(id)}`));
  }

  async images(): Promise<ImageInfo[]> {
    return (await this.client.call<ImageSummary[]>("GET", "/v1/images")).map(imageInfo);
  }

  async run(cmd: Command): Promise<CommandReply> {
    try {
      return { ok: true, result: await this.dispatch(cmd) };
    } catch (err) {
      const status = err instanceof ApiError && err.status >= 400 ? err.status : 500;
      return { ok: false, status, message: (err as Error).message };
    }
  }

  private async action(id: string, path: string): Promise<{ container: ContainerInfo }> {
    const r = await this.client.call<{ Id: string }>("POST", `/v1/containers/${enc(id)}/${path}`);
    return { container: await this.inspect(r.Id) };
  }

  private async dispatch(cmd: Command): Promise<unknown> {
    switch (cmd.type) {
      case "create": {
        const r = await this.client.call<{ Id: string }>(
          "POST",
          "/v1/containers",
          createRequest(cmd.spec),
        );
        return { container: await this.inspect(r.Id) };
      }
      case "start":
      case "pause":
      case "unpause":
        return this.action(cmd.id, cmd.type);
      case "stop":
      case "restart":
        return this.action(
          cmd.id,
          cmd.type + (cmd.timeoutSeconds === undefined ? "" : `?t=${cmd.timeoutSeconds}`),
        );
      case "kill":
        return this.action(cmd.id, `kill?signal=${enc(cmd.signal ?? "SIGKILL")}`);
      case "remove":
        await this.client.call(
          "DELETE",
          `/v1/containers/${enc(cmd.id)}?force=${cmd.force ? 1 : 0}&v=${cmd.volumes ? 1 : 0}`,
        );
        return {};
      case "inspect":
        return { container: await this.inspect(cmd.id) };
      case "pull":
        return this.pull(cmd.ref, cmd.streamId);
      case "logs":
        return this.logs(cmd);
      case "exec":
        return this.exec(cmd);
      case "images.list":
        return { images: await this.images() };
      case "images.remove": {
        const r = await this.client.call<{ untagged: string[]; deleted: string[] }>(
          "DELETE",
          `/v1/images/${enc(cmd.ref)}?force=${cmd.force ? 1 : 0}`,
        );
        this.out.imagesChanged();
        return r;
      }
      case "images.prune": {
        const r = await this.client.call<{
          ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }>;
          SpaceReclaimed: number;
        }>("POST", `/v1/images/prune?all=${cmd.all ? 1 : 0}`);
        this.out.imagesChanged();
        return {
          untagged: r.ImagesDeleted.flatMap((e) => (e.Untagged ? [e.Untagged] : [])),
          deleted: r.ImagesDeleted.flatMap((e) => (e.Deleted ? [e.Deleted] : [])),
          spaceReclaimed: r.SpaceReclaimed,
        };
      }
      case "networks.list":
        return {
          networks: (await this.client.call<DaemonNetwork[]>("GET", "/v1/networks")).map(
            networkInfo,
          ),
        };
      case "networks.create": {
        const { name, subnet, gateway } = cmd;
        const r = await this.client.call<{ Id: string; Name: string }>("POST", "/v1/networks", {
          name,
          ...(subnet ? { subnet } : {}),
          ...(gateway ? { gateway } : {}),
        });
        return { id: r.Id, name: r.Name };
      }
      case "networks.remove":
        await this.client.call("DELETE", `/v1/networks/${enc(cmd.name)}`);
        return {};
      case "volumes.list":
        return { volumes: await this.volumes() };
      case "volumes.create":
        return {
          volume: volumeInfo(
            await this.client.call<DaemonVolume>(
              "POST",
              "/v1/volumes",
              cmd.name ? { name: cmd.name } : {},
            ),
          ),
        };
      case "volumes.remove":
        await this.client.call("DELETE", `/v1/volumes/${enc(cmd.name)}`);
        return {};
      case "volumes.prune":
        return this.pruneVolumes();
      case "facts":
        return this.out.facts();
      case "resync":
        return {}; // the agent answers with a snapshot (see Agent)
    }
  }

  /** Volumes with the containers that mount them (one `ps -a`, not one inspect each). */
  private async volumes(): Promise<VolumeInfo[]> {
    const [volumes, rows] = await Promise.all([
      this.client.call<DaemonVolume[]>("GET", "/v1/volumes"),
      this.client.call<DaemonPsRow[]>("GET", "/v1/containers?all=1"),
    ]);
    return volumes.map((v) => volumeInfo(v, volumeUsers(v.Name, rows)));
  }

  /**
   * The daemon has no volume prune: remove each volume no container mounts. A container
   * created meanwhile keeps its volume: the daemon checks again and refuses (409), skipped.
   */
  private async pruneVolumes(): Promise<{ removed: string[] }> {
    const removed: string[] = [];
    for (const v of await this.volumes()) {
      if (v.usedBy.length > 0) continue;
      try {
        await this.client.call("DELETE", `/v1/volumes/${enc(v.name)}`);
        removed.push(v.name);
      } catch (err) {
        if (!(err instanceof ApiError && (err.status === 409 || err.status === 404))) throw err;
      }
    }
    return { removed };
  }

  private async pull(ref: string, streamId: string): Promise<unknown> {
    const res = await this.client.stream("POST", `/v1/images/pull?ref=${enc(ref)}`);
    this.streams.set(streamId, { close: () => res.destroy() });
    try {
      for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
        if (!line) continue;
        const e = JSON.parse(line) as
          | {
              type: "layer";
              digest: string;
              status: "exists" | "downloading" | "done";
              bytes: number;
              total: number;
            }
          | ({ type: "done" } & PullResult)
          | { type: "error"; message: string };
        if (e.type === "layer") {
          const { digest, status, bytes, total } = e;
          this.out.progress({ streamId, layer: { digest, status, bytes, total } });
        } else if (e.type === "error") {
          throw new ApiError(e.message.includes("not found") ? 404 : 500, e.message);
        } else {
          this.out.imagesChanged();
          return { id: e.id, repoTags: e.repoTags, digest: e.digest };
        }
      }
      throw new Error(`pull of ${ref} ended without a result (the runtime daemon went away?)`);
    } finally {
      this.streams.delete(streamId);
    }
  }

  private async logs(cmd: Extract<Command, { type: "logs" }>): Promise<unknown> {
    const q = new URLSearchParams({ follow: cmd.follow ? "1" : "0" });
    if (cmd.tail !== undefined) q.set("tail", String(cmd.tail));
    if (cmd.timestamps) q.set("timestamps", "1");
    const res: IncomingMessage = await this.client.stream(
      "GET",
      `/v1/containers/${enc(cmd.id)}/logs?${q}`,
    );
    const { streamId } = cmd;
    this.streams.set(streamId, { close: () => res.destroy() });
    res.on("data", (chunk: Buffer) => this.out.data({ streamId, data: chunk }));
    const finish = (error?: string): void => {
      if (!this.streams.delete(streamId)) return;
      this.out.end(error ? { streamId, error } : { streamId });
    };
    res.once("end", () => finish());
    res.once("error", (e) => finish(e.message));
    res.once("close", () => finish());
    return {};
  }

  /** exec runs in the agent's own process, through the runtime's helper (as `corral-rt exec`). */
  private async exec(cmd: Extract<Command, { type: "exec" }>): Promise<unknown> {
    const c = await this.client.call<ContainerView>("GET", `/v1/containers/${enc(cmd.id)}`);
    if (!c.State.Running) throw new ApiError(409, `container ${cmd.id} is not running`);
    // The runtime's one way to exec: the container's user (read inside its root), env,
    // capabilities, no_new_privs and seccomp filter, as `corral-rt exec` gets them.
    const common = containerExecOptions(c, {
      args: cmd.cmd,
      tty: cmd.tty,
      stdin: true,
      env: cmd.env,
      user: cmd.user,
      workdir: cmd.workdir,
    });
    const { streamId } = cmd;
    const send = (fd: 1 | 2) => (chunk: Buffer) =>
      this.out.data(cmd.tty ? { streamId, data: chunk } : { streamId, data: chunk, fd });
    let exec;
    if (cmd.tty) {
      const t: TtyExec = execInContainer({
        ...common,
        tty: true,
        cols: cmd.cols ?? 80,
        rows: cmd.rows ?? 24,
      });
      t.terminal.on("data", send(1));
      this.streams.set(streamId, {
        close: () => t.kill("SIGKILL"),
        input: (data, end) => {
          if (data) t.terminal.write(data);
          if (end) t.terminal.end();
        },
        resize: (cols, rows) => t.resize(cols, rows),
      });
      exec = t;
    } else {
      const p = execInContainer({ ...common, tty: false, stdio: "pipe" });
      p.stdout?.on("data", send(1));
      p.stderr?.on("data", send(2));
      this.streams.set(streamId, {
        close: () => p.kill("SIGKILL"),
        input: (data, end) => {
          if (data) p.stdin?.write(data);
          if (end) p.stdin?.end();
        },
      });
      exec = p;
    }
    exec.exit.then(
      (e) => {
        this.streams.delete(streamId);
        this.out.end({ streamId, exitCode: e.exitCode });
      },
      (err: Error) => {
        this.streams.delete(streamId);
        this.out.end({ streamId, error: err.message });
      },
    );
    return {};
  }

  input(streamId: string, data: Uint8Array | undefined, end: boolean): void {
    this.streams.get(streamId)?.input?.(data, end);
  }

  resize(streamId: string, cols: number, rows: number): void {
    this.streams.get(streamId)?.resize?.(cols, rows);
  }

  /** Stops a stream; its end (exec: with the exit code) is still reported. */
  close(streamId: string): void {
    this.streams.get(streamId)?.close();
  }

  /** The server went away: nobody reads the open streams any more. */
  closeAll(): void {
    for (const id of [...this.streams.keys()]) this.close(id);
  }
}
