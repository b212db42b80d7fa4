// `run -i/-t` and `start -a -i`: start a container and attach to it over one upgraded
// connection. Output is the container's log, followed (for a tty container the daemon writes
// the terminal's output there), so a client that detaches and comes back sees everything.
//
// Both directions keep to the slower side's pace: input from the client is read only as fast
// as the container takes it (`cat big | corral-rt run -i … sleep` buffers nothing here), and
// output waits for the client. Everything ends when the client goes away.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { Writable } from "node:stream";
import { FRAME, FrameDecoder, encodeFrame, type Frame } from "../protocol/attach.js";
import type { ContainerService } from "./containers.js";
import type { ContainerInput } from "./container-input.js";
import { logUnexpected } from "./faults.js";
import { decodeParam } from "./http.js";
import { streamLog } from "./logs.js";

const ATTACH_PATH = /^\/v1\/containers\/([^/]+)\/attach-start$/;

function dimension(value: unknown, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 && n < 10000 ? n : fallback;
}

/** A resize frame's {cols, rows}; undefined for anything else (it is the client's bytes). */
function parseResize(payload: Buffer): { cols: number; rows: number } | undefined {
  try {
    const size = JSON.parse(payload.toString()) as { cols?: unknown; rows?: unknown } | null;
    if (typeof size !== "object" || size === null) return undefined;
    return { cols: dimension(size.cols, 80), rows: dimension(size.rows, 24) };
  } catch {
    return undefined;
  }
}

/** Handles an HTTP upgrade; returns false when the request is not an attach. */
export function handleAttach(
  containers: ContainerService,
  req: IncomingMessage,
  socket: Duplex,
): boolean {
  let url: URL;
  let ref: string;
  try {
    url = new URL(req.url ?? "/", "http://corral");
    const match = ATTACH_PATH.exec(url.pathname);
    if (!match || req.method !== "POST") return false;
    ref = decodeParam(match[1] as string);
  } catch {
    return false; // not a request line we can read: the caller closes the socket
  }
  socket.write(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: corral-attach\r\nConnection: Upgrade\r\n\r\n",
  );
  const send = (type: (typeof FRAME)[keyof typeof FRAME], payload: string | Buffer): void => {
    if (!socket.destroyed) socket.write(encodeFrame(type, payload));
  };
  const gone = new Promise<void>((resolve) => socket.once("close", resolve));
  // The server keeps connections half-open: a client's end is its going away (end of input
  // has its own frame), so close ours too or nothing would ever see `close`.
  socket.once("end", () => socket.destroy());
  void (async () => {
    try {
      const r = containers.get(ref);
      await containers.start(r.id, {
        cols: dimension(url.searchParams.get("cols"), 80),
        rows: dimension(url.searchParams.get("rows"), 24),
      });
      const exit = containers.waitRecord(r);
      forwardInput(socket, containers.input(r.id));
      // Output: each frame is written once the previous one has left, so a client that does not
      // read holds the copy (streamLog waits for drain) rather than the daemon's memory.
      const out = new Writable({
        write(chunk: Buffer, _enc, done) {
          if (socket.destroyed) return done();
          socket.write(encodeFrame(FRAME.data, chunk), () => done());
        },
      });
      out.on("error", () => undefined);
      // Destroyed with an error, so that a copy waiting for `drain` ends instead of waiting forever.
      void gone.then(() => out.destroy(new Error("the attached client went away")));
      await streamLog(containers.logPath(r.id), out, {
        follow: true,
        tail: -1,
        timestamps: false,
        stopped: () => Promise.race([exit.then(() => undefined), gone]),
      });
      const code = await Promise.race([exit, gone.then(() => undefined)]);
      if (code !== undefined) send(FRAME.exit, String(code));
    } catch (err) {
      if (socket.destroyed) return; // the client went away: nobody to tell
      const exitCode = (err as { exitCode?: unknown }).exitCode;
      send(
        FRAME.error,
        JSON.stringify({
          message: (err as Error).message,
          exitCode: typeof exitCode === "number" ? exitCode : 125,
        }),
      );
    }
    socket.end();
  })().catch((err: unknown) => {
    logUnexpected(`attach to ${ref}`, err);
    socket.destroy();
  });
  return true;
}

/**
 * The client's frames to the container: input (paused while the container's stdin or terminal
 * is full), end of input, terminal size. A frame that is not one of ours closes the connection.
 */
function forwardInput(socket: Duplex, input: ContainerInput | undefined): void {
  const decoder = new FrameDecoder();
  const apply = (f: Frame): void => {
    if (f.type === FRAME.data) {
      if (input && !input.write(f.payload)) {
        socket.pause();
        void input.drained().then(() => {
          if (!socket.destroyed) socket.resume();
        });
      }
    } else if (f.type === FRAME.stdinEnd) input?.end();
    else if (f.type === FRAME.resize) {
      const size = parseResize(f.payload);
      if (size) input?.resize(size.cols, size.rows);
    }
  };
  socket.on("data", (chunk: Buffer) => {
    let frames: Frame[];
    try {
      frames = decoder.push(chunk);
    } catch {
      socket.destroy();
      return;
    }
    for (const f of frames) apply(f);
  });
}
