"use client";
// A real `exec -it /bin/sh` in the container: xterm.js in the page, a PTY on the host, bytes
// both ways over the live socket. The size follows the window; when the shell ends or the
// connection drops, the terminal says so and offers a new session.
import { useCallback, useEffect, useRef, useState } from "react";
import type { Terminal } from "@xterm/xterm";
import type { FitAddon } from "@xterm/addon-fit";
import "@xterm/xterm/css/xterm.css";
import { useLive } from "./live.tsx";
import { openStream, type OpenStream } from "./streams.ts";
import { errorMessage } from "./trpc.ts";

type Phase =
  { kind: "loading" } | { kind: "opening" } | { kind: "open" } | { kind: "ended"; message: string };

export function TerminalView({ id, running }: { id: string; running: boolean }) {
  const { socket, status } = useLive();
  const box = useRef<HTMLDivElement>(null);
  const term = useRef<{ t: Terminal; fit: FitAddon } | null>(null);
  const [sid, setSid] = useState<string | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: "loading" });
  const [ready, setReady] = useState(false);

  // The terminal widget, once (xterm needs the DOM: loaded in the browser only).
  useEffect(() => {
    let gone = false;
    let observer: ResizeObserver | undefined;
    void Promise.all([import("@xterm/xterm"), import("@xterm/addon-fit")]).then(([x, f]) => {
      if (gone || !box.current) return;
      const t = new x.Terminal({
        cursorBlink: true,
        fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
        fontSize: 13,
        scrollback: 5000,
        theme: { background: "#000000" },
      });
      const fit = new f.FitAddon();
      t.loadAddon(fit);
      t.open(box.current);
      fit.fit();
      term.current = { t, fit };
      // Resize follows the box (window, phone rotation, side panels).
      observer = new ResizeObserver(() => {
        try {
          fit.fit();
        } catch {
          // not laid out yet
        }
      });
      observer.observe(box.current);
      setReady(true);
    });
    return () => {
      gone = true;
      observer?.disconnect();
      term.current?.t.dispose();
      term.current = null;
    };
  }, []);

  const session = useRef<OpenStream | null>(null);
  /** Which open is the page's: a superseded one is closed when it arrives. */
  const generation = useRef(0);

  const open = useCallback(() => {
    const tt = term.current;
    if (!socket || !tt) return;
    session.current?.close();
    session.current = null;
    setSid(null);
    setPhase({ kind: "opening" });
    tt.t.reset();
    const gen = ++generation.current;
    openStream(
      socket,
      (sid, ack) => socket.emit("exec:open", { id, sid, cols: tt.t.cols, rows: tt.t.rows }, ack),
      {
        onData: (b) => {
          if (gen === generation.current) tt.t.write(b);
        },
        onEnd: (e) => {
          if (gen !== generation.current) return;
          session.current = null;
          setSid(null);
          setPhase({
            kind: "ended",
            message:
              e.error ??
              `the shell exited${e.exitCode !== undefined ? ` with code ${e.exitCode}` : ""}`,
          });
        },
      },
    ).then(
      (s) => {
        if (gen !== generation.current) return s.close();
        session.current = s;
        setSid(s.sid);
        setPhase({ kind: "open" });
        tt.t.focus();
      },
      (err) => {
        if (gen === generation.current) setPhase({ kind: "ended", message: errorMessage(err) });
      },
    );
  }, [socket, id]);

  useEffect(
    () => () => {
      generation.current++;
      session.current?.close();
      session.current = null;
    },
    [],
  );

  // Opens the first session when everything is ready.
  useEffect(() => {
    if (ready && status === "live" && phase.kind === "loading" && running) open();
  }, [ready, status, phase.kind, running, open]);
  useEffect(() => {
    if (!running && phase.kind === "loading")
      setPhase({
        kind: "ended",
        message: "the container is not running: start it to open a shell",
      });
  }, [running, phase.kind]);

  // The connection dropped: this session is gone (the server ends its shell).
  useEffect(() => {
    if (status === "offline" && sid) {
      // The server ended the shell with the connection.
      generation.current++;
      session.current = null;
      setSid(null);
      setPhase({ kind: "ended", message: "disconnected from the server" });
    }
  }, [status, sid]);

  // Keystrokes and resizes go to the open session.
  useEffect(() => {
    const tt = term.current;
    if (!socket || !tt || !sid) return;
    const input = tt.t.onData((data) => socket.emit("stream:input", { sid, data }));
    const resize = tt.t.onResize(({ cols, rows }) =>
      socket.emit("stream:resize", { sid, cols, rows }),
    );
    // The size may have changed while the session was opening.
    socket.emit("stream:resize", { sid, cols: tt.t.cols, rows: tt.t.rows });
    return () => {
      input.dispose();
      resize.dispose();
    };
  }, [socket, sid]);

  return (
    <div className="term-wrap" data-testid="terminal" data-phase={phase.kind}>
      <div ref={box} className="term" />
      {phase.kind !== "open" && (
        <div className="term-overlay" role="status">
          {phase.kind === "loading" || phase.kind === "opening" ? (
            <span>Opening a shell…</span>
          ) : (
            <div style={{ display: "grid", gap: 10, justifyItems: "center" }}>
              <b>Disconnected</b>
              <span>{phase.message}</span>
              <button
                className="primary"
                onClick={open}
                disabled={status !== "live" || !running}
                title={status !== "live" ? "waiting for the server…" : undefined}
              >
                {status !== "live" ? "Waiting for the server…" : "Reconnect"}
              </button>
            </div>
          )}
        </div>
      )}
    </div>
  );
}
