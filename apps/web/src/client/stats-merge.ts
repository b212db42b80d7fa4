// A graph's points: the stored history from the server, then the live samples pushed since;
// and the lines drawn from them. Shared by the container and host pages, so both join the two
// and draw them the same way.
import type { StatsRange } from "../server/services/stats-history.ts";
import type { StatsPoint } from "../stats-point.ts";

/** One line of a chart: `values` line up with the chart's times (null: no value there). */
export interface Line {
  label: string;
  values: Array<number | null>;
  color: string;
  dash?: boolean;
}

/** A subject's charts: their times (seconds) and the lines of each chart over them. */
export interface GraphLines {
  t: number[];
  cpu: Line[];
  mem: Line[];
  net: Line[];
  block: Line[];
}

/**
 * History, then the live points newer than its last one, without a gap (the live samples the
 * page holds overlap the history's end) or a duplicate point. The server keeps 1 s points at
 * whole seconds while a live sample keeps its fraction, so they compare by whole second: the
 * live copy of the history's last sample is not drawn a second time.
 */
export function mergeLive(history: StatsPoint[], live: StatsPoint[]): StatsPoint[] {
  const last = history.at(-1)?.t;
  if (last === undefined) return live;
  return [...history, ...live.filter((p) => Math.floor(p.t) > last)];
}

/**
 * The graphs' lines over a range's points: CPU and memory (over 1 h and 24 h the minute
 * averages, their peaks dashed), network and block I/O rates (minute points only).
 */
export function graphLines(points: StatsPoint[], range: StatsRange): GraphLines {
  const minutes = range !== "15m";
  const col = <K extends keyof StatsPoint>(k: K) => points.map((p) => p[k] as number | null);
  return {
    t: points.map((p) => p.t),
    cpu: [
      { label: minutes ? "CPU (minute average)" : "CPU", values: col("cpu"), color: "#1f6feb" },
      ...(minutes
        ? [{ label: "CPU (minute peak)", values: col("cpuMax"), color: "#1f6feb", dash: true }]
        : []),
    ],
    mem: [
      { label: minutes ? "Memory (average)" : "Memory", values: col("mem"), color: "#8250df" },
      ...(minutes
        ? [{ label: "Memory (peak)", values: col("memMax"), color: "#8250df", dash: true }]
        : []),
    ],
    net: [
      { label: "Network received", values: col("netRx"), color: "#1a7f37" },
      { label: "Network sent", values: col("netTx"), color: "#bf8700" },
    ],
    block: [
      { label: "Block read", values: col("blockRead"), color: "#0969da" },
      { label: "Block written", values: col("blockWrite"), color: "#cf222e" },
    ],
  };
}

/** A line's newest value (the last one that is not null), or null when it has none. */
export function lastValue(values: Array<number | null>): number | null {
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v !== null && v !== undefined) return v;
  }
  return null;
}
