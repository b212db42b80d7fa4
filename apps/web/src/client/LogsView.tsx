"use client";
// A container's logs: the last lines, then every new line as the host writes it.
import { useCallback, useEffect, useRef, useState } from "react";
import { request, useLive } from "./live.tsx";
import { useStream } from "./streams.ts";
import { errorMessage } from "./trpc.ts";

const TAIL = 500;
/** Lines kept in the page; older ones are dropped (download the full log from the REST API). */
const KEEP_LINES = 5000;

export function LogsView({ id }: { id: string }) {
  const { socket, status } = useLive();
  const [sid, setSid] = useState<string | null>(null);
  const [text, setText] = useState("");
  const [state, setState] = useState<{
    kind: "opening" | "open" | "ended" | "error";
    message?: string;
  }>({
    kind: "opening",
  });
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState("");
  const pre = useRef<HTMLPreElement>(null);
  const decoder = useRef(new TextDecoder());

  const open = useCallback(() => {
    if (!socket) return;
    setState({ kind: "opening" });
    setText("");
    decoder.current = new TextDecoder();
    request<{ sid: string }>(socket, (ack) =>
      socket.emit("logs:open", { id, tail: TAIL }, ack),
    ).then(
      (r) => {
        setSid(r.sid);
        setState({ kind: "open" });
      },
      (err) => setState({ kind: "error", message: errorMessage(err) }),
    );
  }, [socket, id]);

  useEffect(() => {
    if (status === "live") open();
    else setSid(null);
  }, [status, open]);

  const onData = useCallback((b: Uint8Array) => {
    const chunk = decoder.current.decode(b, { stream: true });
    setText((t) => {
      const next = t + chunk;
      const lines = next.split("\n");
      return lines.length > KEEP_LINES ? lines.slice(-KEEP_LINES).join("\n") : next;
    });
  }, []);
  const onEnd = useCallback((e: { error?: string }) => {
    setSid(null);
    setState({ kind: "ended", ...(e.error ? { message: e.error } : {}) });
  }, []);
  useStream(socket, sid, onData, onEnd);

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
