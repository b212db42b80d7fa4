"use client";
// A container's logs: the last lines, then every new line as the host writes it.
import { useCallback, useEffect, useRef, useState } from "react";
import { useLive } from "./live.tsx";
import { openStream, type OpenStream } from "./streams.ts";
import { errorMessage } from "./trpc.ts";

const TAIL = 500;
/** Lines kept in the page; older ones are dropped (download the full log from the REST API). */
const KEEP_LINES = 5000;

export function LogsView({ id }: { id: string }) {
  const { socket, status } = useLive();
  const [text, setText] = useState("");
  const [state, setState] = useState<{
    kind: "opening" | "open" | "ended" | "error";
    message?: string;
  }>({ kind: "opening" });
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState("");
  const pre = useRef<HTMLPreElement>(null);
  const current = useRef<OpenStream | null>(null);
  /** Which open is the page's: a superseded one (reopened meanwhile) is closed on arrival. */
  const generation = useRef(0);

  const open = useCallback(() => {
    if (!socket) return;
    current.current?.close();
    current.current = null;
    setState({ kind: "opening" });
    setText("");
    const decoder = new TextDecoder();
    const gen = ++generation.current;
    openStream(socket, (sid, ack) => socket.emit("logs:open", { id, sid, tail: TAIL }, ack), {
      onData: (b) => {
        if (gen !== generation.current) return;
        const chunk = decoder.decode(b, { stream: true });
        setText((t) => {
          const next = t + chunk;
          const lines = next.split("\n");
          return lines.length > KEEP_LINES ? lines.slice(-KEEP_LINES).join("\n") : next;
        });
      },
      onEnd: (e) => {
        current.current = null;
        setState({ kind: "ended", ...(e.error ? { message: e.error } : {}) });
      },
    }).then(
      (s) => {
        if (gen !== generation.current) return s.close();
        current.current = s;
        setState((st) => (st.kind === "opening" ? { kind: "open" } : st));
      },
      (err) => setState({ kind: "error", message: errorMessage(err) }),
    );
  }, [socket, id]);

  // (Re)opens when the connection is (back) up: what was written meanwhile is in the tail.
  useEffect(() => {
    if (status === "live") open();
  }, [status, open]);
  useEffect(
    () => () => {
      generation.current++;
      current.current?.close();
      current.current = null;
    },
    [],
  );
  useEffect(() => {
    if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [text, follow]);

  const shown = search
    ? text
        .split("\n")
        .filter((l) => l.toLowerCase().includes(search.toLowerCase()))
        .join("\n")
    : text;

  return (
    <section>
      <div className="toolbar">
        <input
          type="search"
          placeholder="Show only lines containing…"
          aria-label="Search the logs"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <label style={{ display: "flex", gap: 6, alignItems: "center", fontWeight: 400 }}>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />{" "}
          Follow
        </label>
        <span className="sub" aria-live="polite">
          {state.kind === "opening" && "opening…"}
          {state.kind === "open" && "following live"}
          {state.kind === "ended" && `stream ended${state.message ? `: ${state.message}` : ""}`}
        </span>
        {(state.kind === "ended" || state.kind === "error") && (
          <button className="small" onClick={open}>
            Reopen
          </button>
        )}
      </div>
      {state.kind === "error" && (
        <div className="error">Could not open the logs: {state.message}</div>
      )}
      <pre ref={pre} className="logs" data-testid="logs">
        {shown ||
          (state.kind === "open"
            ? "(no output yet: new lines appear here as they are written)"
            : "")}
      </pre>
    </section>
  );
}
