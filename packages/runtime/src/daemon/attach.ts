// `run -i/-t` and `start -a -i`: start a container and attach to it over one upgraded
// connection. Output is the container's log, followed (for a tty container the daemon writes
// the terminal's output there), so a client that detaches and comes back sees everything.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { Writable } from "node:stream";
import { FRAME, FrameDecoder, encodeFrame } from "../protocol/attach.js";
import type { ContainerService } from "./containers.js";
import { streamLog } from "./logs.js";

const ATTACH_PATH = /^\/v1\/containers\/([^/]+)\/attach-start$/;

function dimension(value: string | null, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 && n < 10000 ? n : fallback;
}

/** Handles an HTTP upgrade; returns false when the request is not an attach. */
export function handleAttach(
  containers: ContainerService,
  req: IncomingMessage,
  socket: Duplex,
): boolean {
  const url = new URL(req.url ?? "/", "http://corral");
  const match = ATTACH_PATH.exec(url.pathname);
  if (!match || req.method !== "POST") return false;
  socket.write(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: corral-attach\r\nConnection: Upgrade\r\n\r\n",
  );
  socket.on("error", () => undefined); // a client that goes away only detaches
  const send = (type: (typeof FRAME)[keyof typeof FRAME], payload: string | Buffer): void => {
    if (!socket.destroyed) socket.write(encodeFrame(type, payload));
  };
  void (async () => {
    try {
      const r = containers.get(decodeURIComponent(match[1] as string));
      await containers.start(r.id, {
        cols: dimension(url.searchParams.get("cols"), 80),
        rows: dimension(url.searchParams.get("rows"), 24),
      });
      const exit = containers.waitRecord(r);
      const input = containers.input(r.id);
      const decoder = new FrameDecoder();
      socket.on("data", (chunk: Buffer) => {
        let frames;
        try {
          frames = decoder.push(chunk);
        } catch {
          socket.destroy();
          return;
        }
        for (const f of frames) {
          if (f.type === FRAME.data) input?.write(f.payload);
          else if (f.type === FRAME.stdinEnd) input?.end();
          else if (f.type === FRAME.resize) {
            const { cols, rows } = JSON.parse(f.payload.toString()) as {
              cols: number;
              rows: number;
            };
            input?.resize(dimension(String(cols), 80), dimension(String(rows), 24));
          }
        }
      });
      const out = new Writable({
        write(chunk: Buffer, _enc, done) {
          if (socket.destroyed) return done();
          socket.write(encodeFrame(FRAME.data, chunk), () => done());
        },
      });
      socket.once("close", () => out.destroy());
      await streamLog(containers.logPath(r.id), out, {
        follow: true,
        tail: -1,
        timestamps: false,
        stopped: () => exit.then(() => undefined),
      });
      send(FRAME.exit, String(await exit));
    } catch (err) {
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
  })();
  return true;
}
