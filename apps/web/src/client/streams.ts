"use client";
// The byte streams a page opens over the live socket (logs, terminals). The page names each
// stream and listens before asking, so the first bytes (a log's tail, a shell's banner) are
// never lost to a race with the acknowledgement.
import type { LiveSocket } from "./live.tsx";

/** socket.io hands binary payloads to browsers as ArrayBuffer. */
export function asBytes(data: Uint8Array | ArrayBuffer): Uint8Array {
  return data instanceof Uint8Array ? data : new Uint8Array(data);
}

/** A random stream name (crypto.randomUUID needs HTTPS; getRandomValues does not). */
function newSid(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

export interface OpenStream {
  sid: string;
  /** Stops reading; the server stops following the logs / ends the shell. */
  close(): void;
}

export interface StreamHandlers {
  onData(bytes: Uint8Array): void;
  onEnd(e: { exitCode?: number; error?: string }): void;
}

export function openStream(
  socket: LiveSocket,
  open: (sid: string, ack: (r: { ok: true } | { ok: false; error: string }) => void) => void,
  h: StreamHandlers,
): Promise<OpenStream> {
  const sid = newSid();
  const data = (d: { sid: string; data: Uint8Array }) => {
    if (d.sid === sid) h.onData(asBytes(d.data));
  };
  const end = (e: { sid: string; exitCode?: number; error?: string }) => {
    if (e.sid !== sid) return;
    stop();
    h.onEnd(e);
  };
  const stop = () => {
    socket.off("stream:data", data);
    socket.off("stream:end", end);
  };
  socket.on("stream:data", data);
  socket.on("stream:end", end);
  const stream: OpenStream = {
    sid,
    close() {
      stop();
      if (socket.connected) socket.emit("stream:close", { sid });
    },
  };
  return new Promise((resolve, reject) => {
    if (!socket.connected) {
      stop();
      return reject(new Error("not connected to the server"));
    }
    open(sid, (r) => {
      if (r.ok) return resolve(stream);
      stop();
      reject(new Error(r.error));
    });
  });
}
