"use client";
// A container's logs: the last 100,000 lines, then every new line as the host writes it (the
// runtime's follow reads across its log rotation). Only the rows on screen are in the DOM
// (@tanstack/react-virtual), so 100,000 lines scroll like 100. ANSI colours become React spans
// (anser's tokens, never HTML from the log: a log line cannot inject markup); search highlights
// every match and steps through them; timestamps come with every line and are shown on demand.
import { useVirtualizer } from "@tanstack/react-virtual";
import Anser from "anser";
import { useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from "react";
import { useLive } from "./live.tsx";
import { openStream, type OpenStream } from "./streams.ts";
import { errorMessage } from "./trpc.ts";

/** Lines asked for when the view opens, and the most the page keeps (older ones drop off). */
export const KEEP_LINES = 100_000;
const ROW_PX = 18;
type AnserJsonEntry = Anser.AnserJsonEntry;

interface Line {
  time: string;
  text: string;
}

/** The runtime's `logs -t` prefix: an RFC 3339 time and a space. */
const STAMPED = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (.*)$/s;
function parseLine(raw: string): Line {
  const m = STAMPED.exec(raw);
  return m ? { time: m[1] as string, text: m[2] as string } : { time: "", text: raw };
}

/** ANSI-free text, for search. */
function plain(text: string): string {
  return text.includes("\x1b") ? Anser.ansiToText(text) : text;
}

function tokens(text: string): AnserJsonEntry[] {
  if (!text.includes("\x1b")) return [{ content: text } as AnserJsonEntry];
  return Anser.ansiToJson(text, { json: true, remove_empty: true, use_classes: false });
}

/** One token's text with the search matches marked. */
function marked(content: string, needle: string, key: string): React.ReactNode {
  if (!needle) return content;
  const lower = content.toLowerCase();
  const out: React.ReactNode[] = [];
  let from = 0;
  for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, at + needle.length)) {
    if (at > from) out.push(content.slice(from, at));
    out.push(<mark key={`${key}-${at}`}>{content.slice(at, at + needle.length)}</mark>);
    from = at + needle.length;
  }
  if (from < content.length) out.push(content.slice(from));
  return out;
}

function LineView({ line, needle }: { line: Line; needle: string }) {
  return (
    <>
      {tokens(line.text).map((t, i) => {
        const style: React.CSSProperties = {};
        if (t.fg) style.color = `rgb(${t.fg})`;
        if (t.bg) style.background = `rgb(${t.bg})`;
        const d = t.decorations ?? [];
        if (d.includes("bold")) style.fontWeight = 700;
        if (d.includes("italic")) style.fontStyle = "italic";
        if (d.includes("underline")) style.textDecoration = "underline";
        if (d.includes("dim")) style.opacity = 0.7;
        return (
          <span key={i} style={style}>
            {marked(t.content, needle, String(i))}
          </span>
        );
      })}
    </>
  );
}

type StreamState = { kind: "opening" | "open" | "ended" | "error"; message?: string };

export function LogsView({ id }: { id: string }) {
  const { socket, status } = useLive();
  const lines = useRef<Line[]>([]);
  /** bumped once per batch of new lines (a frame), so React renders per frame, not per chunk */
  const [version, setVersion] = useState(0);
  const [state, setState] = useState<StreamState>({ kind: "opening" });
  const [follow, setFollow] = useState(true);
  const [stamps, setStamps] = useState(false);
  const [query, setQuery] = useState("");
  const needle = useDeferredValue(query.toLowerCase());
  const [current, setCurrent] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  const stream = useRef<OpenStream | null>(null);
  /** Which open is the page's: a superseded one (reopened meanwhile) is closed on arrival. */
  const generation = useRef(0);

  const open = useCallback(() => {
    if (!socket) return;
    stream.current?.close();
    stream.current = null;
    setState({ kind: "opening" });
    lines.current = [];
    setVersion((v) => v + 1);
    const decoder = new TextDecoder();
    let partial = "";
    let frame = 0;
    const gen = ++generation.current;
    openStream(
      socket,
      (sid, ack) => socket.emit("logs:open", { id, sid, tail: KEEP_LINES, timestamps: true }, ack),
      {
        onData: (b) => {
          if (gen !== generation.current) return;
          const parts = (partial + decoder.decode(b, { stream: true })).split("\n");
          partial = parts.pop() ?? "";
          const l = lines.current;
          for (const p of parts) l.push(parseLine(p.endsWith("\r") ? p.slice(0, -1) : p));
          if (l.length > KEEP_LINES) l.splice(0, l.length - KEEP_LINES);
          if (!frame) {
            frame = requestAnimationFrame(() => {
              frame = 0;
              setVersion((v) => v + 1);
            });
          }
        },
        onEnd: (e) => {
          if (gen !== generation.current) return;
          stream.current = null;
          setState({ kind: "ended", ...(e.error ? { message: e.error } : {}) });
        },
      },
    ).then(
      (s) => {
        if (gen !== generation.current) return s.close();
        stream.current = s;
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
      stream.current?.close();
      stream.current = null;
    },
    [],
  );

  const count = lines.current.length;
  const rows = useVirtualizer({
    count,
    getScrollElement: () => box.current,
    estimateSize: () => ROW_PX,
    overscan: 30,
  });

  /** Indexes of the lines that match the search. */
  const matches = useMemo(() => {
    if (!needle) return [];
    const out: number[] = [];
    const l = lines.current;
    for (let i = 0; i < l.length; i++) {
      if (
        plain((l[i] as Line).text)
          .toLowerCase()
          .includes(needle)
      )
        out.push(i);
    }
    return out;
    // `version` stands for the lines' content (a ref)
  }, [needle, version]);

  const go = useCallback(
    (to: number) => {
      if (!matches.length) return;
      const i = ((to % matches.length) + matches.length) % matches.length;
      setCurrent(i);
      setFollow(false);
      rows.scrollToIndex(matches[i] as number, { align: "center" });
    },
    [matches, rows],
  );
  // A new search starts at its first match.
  useEffect(() => {
    setCurrent(0);
    if (matches.length) {
      setFollow(false);
      rows.scrollToIndex(matches[0] as number, { align: "center" });
    }
    // only when the search changes, not when lines arrive
  }, [needle]);

  useEffect(() => {
    if (follow && count) rows.scrollToIndex(count - 1, { align: "end" });
  }, [follow, count, version, rows]);

  const currentLine = matches[current];
  return (
    <section>
      <div className="toolbar logs-toolbar">
        <input
          type="search"
          placeholder="Find in the logs…"
          aria-label="Find in the logs"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") go(current + (e.shiftKey ? -1 : 1));
          }}
        />
        <span className="sub" data-testid="log-matches" aria-live="polite">
          {needle ? (matches.length ? `${current + 1} of ${matches.length}` : "no match") : ""}
        </span>
        <button
          className="small"
          onClick={() => go(current - 1)}
          disabled={!matches.length}
          aria-label="Previous match"
          title="Previous match (Shift+Enter)"
        >
          ↑
        </button>
        <button
          className="small"
          onClick={() => go(current + 1)}
          disabled={!matches.length}
          aria-label="Next match"
          title="Next match (Enter)"
        >
          ↓
        </button>
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
          Follow
        </label>
        <label className="check">
          <input type="checkbox" checked={stamps} onChange={(e) => setStamps(e.target.checked)} />
          Timestamps
        </label>
        <a
          className="button small"
          href={`/api/v1/containers/${encodeURIComponent(id)}/logs/download`}
          download
          title="The whole log as a file, with timestamps"
        >
          Download
        </a>
        <span className="sub" aria-live="polite">
          {state.kind === "opening" && "opening…"}
          {state.kind === "open" &&
            `${count.toLocaleString()} lines · ${follow ? "following live" : "live (Follow to jump to the end)"}`}
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
      <div
        ref={box}
        className="logs"
        data-testid="logs"
        data-lines={count}
        onWheel={(e) => {
          // Scrolling up to read stops following; the checkbox (or End) brings it back.
          if (e.deltaY < 0 && follow) setFollow(false);
        }}
      >
        {count === 0 ? (
          <div className="logs-empty">
            {state.kind === "open"
              ? "No output yet: new lines appear here as the container writes them."
              : state.kind === "opening"
                ? "Loading the logs…"
                : ""}
          </div>
        ) : (
          <div style={{ height: rows.getTotalSize(), position: "relative", minWidth: "100%" }}>
            {rows.getVirtualItems().map((v) => {
              const line = lines.current[v.index] as Line;
              return (
                <div
                  key={v.key}
                  className={`log-line${v.index === currentLine ? " current" : ""}`}
                  data-index={v.index}
                  style={{ transform: `translateY(${v.start}px)`, height: ROW_PX }}
                >
                  {stamps && <span className="log-time">{line.time}</span>}
                  <LineView line={line} needle={needle} />
                </div>
              );
            })}
          </div>
        )}
      </div>
    </section>
  );
}
