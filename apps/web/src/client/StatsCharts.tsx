"use client";
// CPU, memory and I/O of one container: its history from the server (the last 15 minutes at
// 1 Hz, or 1-minute points over 1 h / 24 h, so the graphs survive a closed tab), then the 1 Hz
// samples its host pushes (stats:watch) appended live. Drawn with uPlot.
import { useQuery, type UseQueryResult } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { StatsSample } from "@corral/protocol";
import type { StatsHistoryView, StatsRange } from "../server/services/stats-history.ts";
import { samplePoint, type StatsPoint } from "../stats-point.ts";
import { bytes } from "./format.ts";
import { useLive } from "./live.tsx";
import { graphLines, lastValue, mergeLive, type GraphLines, type Line } from "./stats-merge.ts";
import { errorMessage, trpc } from "./trpc.ts";

/** Live samples kept in the page: 15 minutes at 1 Hz (the shortest range's span). */
export const LIVE_KEEP = 900;
export const RANGES: StatsRange[] = ["15m", "1h", "24h"];

export interface Series {
  t: number[];
  cpu: number[];
  mem: number[];
}

interface ChartProps {
  title: string;
  t: number[];
  lines: Line[];
  format: (v: number) => string;
  /** seconds shown: the range asked for, ending now, however young the container */
  span: number;
  /** the y axis goes at least this high (an idle container's graph is not all noise) */
  floor: number;
}

/** One live line chart (uPlot), sized to its box: StatPanel's graph. */
function Chart({ title, t, lines, format, span, floor }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = lines.map((l) => `${l.label}:${l.color}:${l.dash ? 1 : 0}`).join();
  // What to draw once uPlot has loaded: samples that came before it (a host's backfill, a
  // tab switched back to) are drawn at once, not from the next sample on.
  const data = useRef<uPlot.AlignedData>([[]]);
  data.current = [t, ...lines.map((l) => l.values)] as uPlot.AlignedData;

  useEffect(() => {
    let gone = false;
    let observer: ResizeObserver | undefined;
    void import("uplot").then(({ default: UPlot }) => {
      if (gone || !box.current) return;
      const css = getComputedStyle(document.documentElement);
      const muted = css.getPropertyValue("--muted").trim() || "#888";
      const grid = css.getPropertyValue("--border").trim() || "#ddd";
      const axis = {
        stroke: muted,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
      };
      plot.current = new UPlot(
        {
          width: box.current.clientWidth,
          height: 160,
          legend: { show: false },
          cursor: { drag: { x: false, y: false } },
          scales: {
            x: {
              range: (_u, _min, max) => [
                Math.max(max, Date.now() / 1000) - span,
                Math.max(max, Date.now() / 1000),
              ],
            },
            y: { range: (_u, _min, max) => [0, Math.max((max || 0) * 1.1, floor)] },
          },
          axes: [axis, { ...axis, size: 70, values: (_u, ticks) => ticks.map(format) }],
          series: [
            {},
            ...lines.map((l, i) => ({
              label: l.label,
              stroke: l.color,
              ...(i === 0 ? { fill: `${l.color}22` } : {}),
              ...(l.dash ? { dash: [4, 4] } : {}),
              width: l.dash ? 1 : 2,
              points: { show: false },
            })),
          ],
        },
        data.current,
        box.current,
      );
      observer = new ResizeObserver(() => {
        if (box.current) plot.current?.setSize({ width: box.current.clientWidth, height: 160 });
      });
      observer.observe(box.current);
    });
    return () => {
      gone = true;
      observer?.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // `shape` stands for the lines' labels and colours; new values go through setData below
  }, [title, format, shape, span, floor]);

  useEffect(() => {
    plot.current?.setData([t, ...lines.map((l) => l.values)] as uPlot.AlignedData);
  }, [t, lines]);

  return (
    <div
      ref={box}
      className="chart"
      aria-label={`${title}: ${lines.map((l) => l.label).join(", ")}`}
    />
  );
}

export const cpuFormat = (v: number) => `${v.toFixed(v < 1 ? 2 : v < 10 ? 1 : 0)} %`;
const rateFormat = (v: number) => (v < 1024 ? `${Math.round(v)} B/s` : `${bytes(v)}/s`);
/** Seconds each range's graph spans. */
const SPAN: Record<StatsRange, number> = { "15m": 900, "1h": 3600, "24h": 86400 };

/** Each graph's heading, axis format and least height, the same on every page. */
const GRAPHS = {
  cpu: { title: "CPU", format: cpuFormat, floor: 1 },
  mem: { title: "Memory", format: bytes, floor: 1024 * 1024 },
  net: { title: "Network", format: rateFormat, floor: 1024 },
  block: { title: "Block I/O", format: rateFormat, floor: 1024 },
} satisfies Record<keyof Omit<GraphLines, "t">, Omit<ChartProps, "t" | "lines" | "span">>;

/**
 * One graph's panel: its heading, the newest value in big (with what it is out of, in small),
 * then its chart over the range. The container and host pages draw their graphs with it.
 */
export function StatPanel({
  graph,
  range,
  series,
  chartTitle,
  now,
  detail,
  nowTestId,
}: {
  graph: keyof typeof GRAPHS;
  range: StatsRange;
  series: GraphLines;
  /** the chart's accessible name when it says more than the heading ("Host CPU") */
  chartTitle?: string;
  /** the newest value, big above the chart; null: none yet ("…"); absent: no big number */
  now?: string | null;
  /** after the big number, small: what it is out of ("of 2 CPU", "of 64 MiB") */
  detail?: ReactNode;
  nowTestId?: string;
}) {
  const { title, format, floor } = GRAPHS[graph];
  // Until the first live sample, the stored history's newest point (graph's first line: the
  // value, or the minute's average) rather than "…" above a chart that already has points.
  const stored = now === null ? lastValue(series[graph][0]?.values ?? []) : null;
  return (
    <section className="panel">
      <h2>{title}</h2>
      {now !== undefined && (
        <div
          className="big stat-now"
          data-testid={nowTestId}
          title={
            now === null && stored !== null
              ? "the newest stored point, until a live one"
              : undefined
          }
        >
          <span>{now ?? (stored !== null ? format(stored) : "…")}</span>
          {now !== null && detail ? <span className="sub"> {detail}</span> : null}
        </div>
      )}
      <Chart
        title={chartTitle ?? title}
        span={SPAN[range]}
        floor={floor}
        t={series.t}
        lines={series[graph]}
        format={format}
      />
    </section>
  );
}

export interface StatsHistory {
  /** the 1 Hz samples pushed while the page is open (any tab) */
  live: StatsSample[];
  last: StatsSample | null;
}

/**
 * The container's 1 Hz samples while its page is open (any tab), so switching tabs keeps the
 * newest points; the history before them comes from the server.
 */
export function useStatsHistory(id: string): StatsHistory {
  const { socket } = useLive();
  const [history, setHistory] = useState<StatsHistory>({ live: [], last: null });

  useEffect(() => {
    if (!socket) return;
    const onStats = (s: StatsSample) => {
      if (s.id !== id) return;
      setHistory((cur) => {
        const prev = cur.live.at(-1);
        if (prev && Date.parse(s.time) <= Date.parse(prev.time)) return { ...cur, last: s };
        const cut = cur.live.length >= LIVE_KEEP ? 1 : 0;
        return { last: s, live: [...cur.live.slice(cut), s] };
      });
    };
    const watch = () => socket.emit("stats:watch", { id });
    socket.on("stats", onStats);
    socket.on("connect", watch);
    if (socket.connected) watch();
    return () => {
      socket.off("stats", onStats);
      socket.off("connect", watch);
      socket.emit("stats:unwatch", { id });
    };
  }, [socket, id]);
  return history;
}

/** What a page asks the server for: a subject's stored history over one range. */
type HistoryQuery = (range: StatsRange) => Promise<StatsHistoryView>;

/**
 * A graph's range (15 min, 1 h, 24 h), the subject's stored history over it, that history
 * followed by the live points (mergeLive) and their lines (graphLines): the container and host
 * pages draw the same way.
 * `key` names the subject in the query cache.
 */
export function useStoredStats(key: readonly unknown[], query: HistoryQuery, live: StatsPoint[]) {
  const [range, setRange] = useState<StatsRange>("15m");
  const stored = useQuery({
    queryKey: [...key, range],
    queryFn: () => query(range),
    // Read again each time the graph is shown (the history moved on meanwhile), drawing the
    // cached points until the new ones arrive: switching tabs never empties the graph.
    staleTime: 0,
  });
  const points = useMemo(() => mergeLive(stored.data?.points ?? [], live), [stored.data, live]);
  const series = useMemo(() => graphLines(points, range), [points, range]);
  return { range, setRange, stored, points, series };
}

/** The graphs' toolbar: the range buttons and what the points are (or why there are none). */
export function StatsToolbar({
  range,
  onChange,
  stored,
}: {
  range: StatsRange;
  onChange: (r: StatsRange) => void;
  stored: UseQueryResult<StatsHistoryView>;
}) {
  return (
    <div className="toolbar">
      <RangePicker range={range} onChange={onChange} />
      <span className="sub">
        {stored.isPending
          ? "loading the history…"
          : stored.isError
            ? `history unavailable (${errorMessage(stored.error)}): showing live samples`
            : range !== "15m"
              ? "1-minute points (average and peak), then live"
              : "every second, live"}
      </span>
    </div>
  );
}

export function StatsCharts({
  id,
  history: { live, last },
  running,
}: {
  id: string;
  history: StatsHistory;
  running: boolean;
}) {
  const livePoints = useMemo(
    () => live.map((s) => samplePoint(Date.parse(s.time) / 1000, s.cpuPercent, s.memoryUsageBytes)),
    [live],
  );
  const { range, setRange, stored, points, series } = useStoredStats(
    ["stats", id],
    (r) => trpc.containers.stats.query({ id, range: r }),
    livePoints,
  );
  const minutes = range !== "15m";

  if (!running && points.length === 0 && !stored.isPending)
    return (
      <div className="panel state">
        <strong>
          No measurements {range === "15m" ? "in the last 15 minutes" : `in the last ${range}`}
        </strong>
        CPU and memory are measured while the container runs: start it to see them live
        {range === "15m" ? ", or look at a longer range." : "."}
        <RangePicker range={range} onChange={setRange} />
      </div>
    );
  return (
    <div data-testid="stats" data-samples={points.length} data-range={range}>
      <StatsToolbar range={range} onChange={setRange} stored={stored} />
      <div className="grid2">
        <StatPanel
          graph="cpu"
          range={range}
          series={series}
          now={last ? cpuFormat(last.cpuPercent) : null}
          nowTestId="cpu-now"
        />
        <StatPanel
          graph="mem"
          range={range}
          series={series}
          now={last ? bytes(last.memoryUsageBytes) : null}
          detail={last && last.memoryLimitBytes > 0 && `of ${bytes(last.memoryLimitBytes)}`}
        />
        {minutes && (
          <>
            <StatPanel graph="net" range={range} series={series} />
            <StatPanel graph="block" range={range} series={series} />
          </>
        )}
        {last && (
          <section className="panel" style={{ gridColumn: "1 / -1" }}>
            <dl className="facts">
              <dt>Network</dt>
              <dd>
                ↓ {bytes(last.netRxBytes)} · ↑ {bytes(last.netTxBytes)} since start
              </dd>
              <dt>Block I/O</dt>
              <dd>
                read {bytes(last.blockReadBytes)} · written {bytes(last.blockWriteBytes)}
              </dd>
              <dt>Processes</dt>
              <dd>{last.pids}</dd>
            </dl>
          </section>
        )}
      </div>
    </div>
  );
}

export function RangePicker({
  range,
  onChange,
}: {
  range: StatsRange;
  onChange: (r: StatsRange) => void;
}) {
  return (
    <span className="ranges" role="group" aria-label="Time range">
      {RANGES.map((r) => (
        <button key={r} className="small" aria-pressed={r === range} onClick={() => onChange(r)}>
          {r === "15m" ? "15 min" : r === "1h" ? "1 hour" : "24 hours"}
        </button>
      ))}
    </span>
  );
}
