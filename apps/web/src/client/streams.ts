"use client";
// Helpers for the byte streams a page opens over the live socket (logs, terminals).
import { useEffect } from "react";
import type { LiveSocket } from "./live.tsx";

/** socket.io hands binary payloads to browsers as ArrayBuffer. */
export function asBytes(data: Uint8Array | ArrayBuffer): Uint8Array {
  return data instanceof Uint8Array ? data : new Uint8Array(data);
}

/** Calls `onData` / `onEnd` for the stream `sid` while it is open. */
export function useStream(
  socket: LiveSocket | null,
  sid: string | null,
  onData: (bytes: Uint8Array) => void,
  onEnd: (e: { exitCode?: number; error?: string }) => void,
): void {
  useEffect(() => {
    if (!socket || !sid) return;
    const data = (d: { sid: string; data: Uint8Array }) => {
      if (d.sid === sid) onData(asBytes(d.data));
    };
    const end = (e: { sid: string; exitCode?: number; error?: string }) => {
      if (e.sid === sid) onEnd(e);
    };
    socket.on("stream:data", data);
    socket.on("stream:end", end);
    return () => {
      socket.off("stream:data", data);
      socket.off("stream:end", end);
      // The page no longer reads it: the host stops following / ends the shell.
      if (socket.connected) socket.emit("stream:close", { sid });
    };
  }, [socket, sid, onData, onEnd]);
}
