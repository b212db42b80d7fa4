// Client of corral-rtd's unix-socket API, used by the CLI (and later the agent). Starts the
// daemon on demand, as the DESIGN asks: the first `corral-rt` command on a host brings it up.
import { request as httpRequest, type IncomingMessage } from "node:http";
import { spawn } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Readable } from "node:stream";
import type { Socket } from "node:net";
import { runtimePaths, type RuntimePaths } from "../paths.js";

const DAEMON = fileURLToPath(new URL("../daemon/main.js", import.meta.url));

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** A container's exit code when a start failed (127 not found, 126 not executable). */
    readonly exitCode?: number,
  ) {
    super(message);
  }
}

/** How a dropped connection shows up in Node: `socket hang up`, `read ECONNRESET`, `write EPIPE`, `aborted`. */
export function isConnectionDrop(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return (
    code === "ECONNRESET" ||
    code === "EPIPE" ||
    code === "ERR_STREAM_PREMATURE_CLOSE" ||
    message === "aborted" ||
    message === "socket hang up"
  );
}

/** The command that shows whether a request to `path` took effect. */
function checkWith(path: string): string {
  if (path.startsWith("/v1/images")) return "corral-rt images";
  if (path.startsWith("/v1/networks")) return "corral-rt network ls";
  if (path.startsWith("/v1/volumes")) return "corral-rt volume ls";
  return "corral-rt ps -a";
}

/**
 * The connection to corral-rtd broke mid-request (the daemon died or was killed): one line that
 * says so, and whether what was asked may have happened.
 */
export class ConnectionLostError extends Error {
  constructor(method: string | undefined, path: string | undefined, cause: Error) {
    const reads = method === "GET" || method === "HEAD";
    super(
      `lost the connection to corral-rtd (${cause.message}); ` +
        (reads
          ? "nothing was changed: try again"
          : `the operation may have happened: check with ${checkWith(path ?? "")}`),
    );
  }
}

/** A dropped connection as a ConnectionLostError; any other error as it is. */
export function connectionLost(err: unknown, method?: string, path?: string): unknown {
  return isConnectionDrop(err) && !(err instanceof ConnectionLostError)
    ? new ConnectionLostError(method, path, err as Error)
    : err;
}

export class RuntimeClient {
  constructor(readonly paths: RuntimePaths = runtimePaths()) {}

  raw(method: string, path: string, body?: Readable | string): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          socketPath: this.paths.socket,
          method,
          path,
          headers: typeof body === "string" ? { "content-type": "application/json" } : {},
        },
        resolve,
      );
      req.on("error", reject);
      if (body === undefined) req.end();
      else if (typeof body === "string") req.end(body);
      else body.pipe(req);
    });
  }

  /** Opens an upgraded connection (the attach stream); `head` bytes are pushed back first. */
  upgrade(path: string): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({
        socketPath: this.paths.socket,
        method: "POST",
        path,
        headers: { connection: "Upgrade", upgrade: "corral-attach" },
      });
      req.on("upgrade", (_res, socket: Socket, head: Buffer) => {
        if (head.length) socket.unshift(head);
        resolve(socket);
      });
      req.on("response", (res) => reject(new ApiError(res.statusCode ?? 500, "attach refused")));
      req.on("error", (err) => reject(connectionLost(err, "POST", path)));
      req.end();
    });
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await this.json<T>(
        await this.raw(method, path, body === undefined ? undefined : JSON.stringify(body)),
      );
    } catch (err) {
      throw connectionLost(err, method, path);
    }
  }

  /** A streamed response (logs, pull progress), or the daemon's error as an ApiError. */
  async stream(method: string, path: string): Promise<IncomingMessage> {
    try {
      const res = await this.raw(method, path);
      if ((res.statusCode ?? 500) >= 400) await this.json(res);
      return res;
    } catch (err) {
      throw connectionLost(err, method, path);
    }
  }

  /** Reads a JSON response; a 4xx/5xx becomes an ApiError with the daemon's message. */
  async json<T>(res: IncomingMessage): Promise<T> {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const json = text ? (JSON.parse(text) as unknown) : {};
    if ((res.statusCode ?? 500) >= 400) {
      const err = json as { message?: string; exitCode?: number };
      throw new ApiError(res.statusCode ?? 500, err.message ?? text, err.exitCode);
    }
    return json as T;
  }

  /** Resolves once the daemon answers, starting it if nothing listens on the socket. */
  async ensureDaemon(): Promise<void> {
    if (await this.ping()) return;
    mkdirSync(this.paths.run, { recursive: true, mode: 0o700 });
    const logFd = openSync(join(this.paths.run, "rtd.log"), "a", 0o600);
    const child = spawn(process.execPath, [DAEMON], {
      detached: true,
      stdio: ["ignore", logFd, logFd],
      env: { ...process.env, CORRAL_ROOT: this.paths.root, CORRAL_RUN: this.paths.run },
    });
    child.unref();
    for (let i = 0; i < 200; i++) {
      if (await this.ping()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`corral-rtd did not start; see ${join(this.paths.run, "rtd.log")}`);
  }

  private async ping(): Promise<boolean> {
    try {
      await this.call("GET", "/v1/ping");
      return true;
    } catch {
      return false;
    }
  }
}
