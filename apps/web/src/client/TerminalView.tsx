"use client";
// A real `exec -it /bin/sh` in the container: xterm.js in the page, a PTY on the host, bytes
// both ways over the live socket. The size follows the box (window, full screen) and is sent
// again whenever a session (re)opens; a ping every few seconds checks the server still holds
// the session, so a dead connection (laptop sleep, proxy timeout) shows "Disconnected" with a
// Reconnect button instead of a terminal that silently stops answering. Copy and paste:
// Ctrl/Cmd+Shift+C/V or the buttons.
import { useCallback, useEffect, useRef, useState } from "react";
import type { Terminal } from "@xterm/xterm";
import type { FitAddon } from "@xterm/addon-fit";
import "@xterm/xterm/css/xterm.css";
import { useLive } from "./live.tsx";
import { openStream, type OpenStream } from "./streams.ts";
import { errorMessage } from "./trpc.ts";

/** How often the open session is checked, and how long an answer may take. */
const PING_EVERY_MS = 5000;
const PONG_WITHIN_MS = 10_000;

/** The clipboard API needs a secure context; elsewhere the browser's own copy is used. */
async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) return navigator.clipboard.writeText(text);
  const area = document.createElement("textarea");
  area.value = text;
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

type Phase =
  { kind: "loading" } | { kind: "opening" } | { kind: "open" } | { kind: "ended"; message: string };

export function TerminalView({ id, running }: { id: string; running: boolean }) {
  const { socket, status } = useLive();
  const box = useRef<HTMLDivElement>(null);
  const term = useRef<{ t: Terminal; fit: FitAddon } | null>(null);
  const [sid, setSid] = useState<string | null>(null);
  const [phase, setPhase] = useState<Phase>({ kind: "loading" });
  const [ready, setReady] = useState(false);
  const [full, setFull] = useState(false);
  /** the terminal's size, as the PTY should have it */
  const [size, setSize] = useState({ cols: 0, rows: 0 });
  const [copied, setCopied] = useState(false);
  /** reading the clipboard needs a secure context (HTTPS or localhost) */
  const [canPaste, setCanPaste] = useState(false);
  useEffect(() => setCanPaste(window.isSecureContext && "clipboard" in navigator), []);

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
      // Ctrl/Cmd+Shift+C copies the selection, Ctrl/Cmd+Shift+V pastes (plain Ctrl+C stays ^C).
      t.attachCustomKeyEventHandler((e) => {
        if (e.type !== "keydown" || !e.shiftKey || !(e.ctrlKey || e.metaKey)) return true;
        if (e.code === "KeyC") {
          if (t.hasSelection()) void copyText(t.getSelection());
          return false;
        }
        if (e.code === "KeyV" && window.isSecureContext) {
          void navigator.clipboard.readText().then(
            (text) => t.paste(text),
            () => undefined,
          );
          return false;
        }
        return true; // without the clipboard API the browser's own paste event reaches xterm
      });
      t.onResize(({ cols, rows }) => setSize({ cols, rows }));
      fit.fit();
      setSize({ cols: t.cols, rows: t.rows });
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

  // Is the session still there? No answer (a dead connection) or "gone" ends it clearly.
  useEffect(() => {
    if (!socket || !sid) return;
    let answered = Date.now();
    const onPong = (p: { sid: string; alive: boolean }) => {
      if (p.sid !== sid) return;
      answered = Date.now();
      if (!p.alive) lost("the server no longer holds this shell");
    };
    const lost = (message: string) => {
      generation.current++;
      session.current = null;
      setSid(null);
      setPhase({ kind: "ended", message });
    };
    const timer = setInterval(() => {
      if (Date.now() - answered > PONG_WITHIN_MS) {
        lost("the server stopped answering");
        // The page's connection is dead too: make socket.io reconnect now, not in a minute.
        socket.io.engine?.close();
        return;
      }
      socket.emit("stream:ping", { sid });
    }, PING_EVERY_MS);
    socket.on("stream:pong", onPong);
    return () => {
      clearInterval(timer);
      socket.off("stream:pong", onPong);
    };
  }, [socket, sid]);

  // Full screen changes the box: fit again (the resize then reaches the PTY).
  useEffect(() => {
    const tt = term.current;
    if (!tt) return;
    try {
      tt.fit.fit();
    } catch {
      // not laid out yet
    }
    tt.t.focus();
  }, [full]);
  useEffect(() => {
    if (!full) return;
    const onKey = (e: KeyboardEvent) => {
      // Escape belongs to the shell (vi); leaving full screen is Ctrl/Cmd+Shift+F or the button.
      if (e.shiftKey && (e.ctrlKey || e.metaKey) && e.code === "KeyF") setFull(false);
    };
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  }, [full]);

  const copy = () => {
    const tt = term.current;
    if (!tt?.t.hasSelection()) return;
    void copyText(tt.t.getSelection()).then(() => {
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    });
    tt.t.focus();
  };
  const paste = () => {
    const tt = term.current;
    if (!tt) return;
    void navigator.clipboard?.readText().then(
      (text) => tt.t.paste(text),
      () => undefined,
    );
    tt.t.focus();
  };

  return (
    <div className={`term-box${full ? " full" : ""}`}>
      <div className="term-tools">
        <span className="sub" data-testid="terminal-state">
          {phase.kind === "open"
            ? "connected"
            : phase.kind === "ended"
              ? "disconnected"
              : "connecting…"}
        </span>
        <span className="spacer" />
        <button className="small" onClick={copy} title="Copy the selection (Ctrl/Cmd+Shift+C)">
          {copied ? "Copied" : "Copy"}
        </button>
        {canPaste && (
          <button className="small" onClick={paste} title="Paste (Ctrl/Cmd+Shift+V)">
            Paste
          </button>
        )}
        <button
          className="small"
          onClick={() => setFull((f) => !f)}
          aria-pressed={full}
          title="Full screen (Ctrl/Cmd+Shift+F to leave)"
        >
          {full ? "Exit full screen" : "Full screen"}
        </button>
      </div>
      <div
        className="term-wrap"
        data-testid="terminal"
        data-phase={phase.kind}
        data-cols={size.cols}
        data-rows={size.rows}
      >
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
    </div>
  );
}
