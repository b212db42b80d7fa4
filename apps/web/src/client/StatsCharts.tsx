"use client";
// Live CPU and memory of one container: the 1 Hz samples its host pushes (stats:watch), the last
// five minutes kept in the page, drawn with uPlot (fast enough for 1 Hz on many charts).
import { useEffect, useRef, useState } from "react";
import type uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { StatsSample } from "@corral/protocol";
import { bytes } from "./format.ts";
import { useLive } from "./live.tsx";

/** Five minutes at 1 Hz. */
const KEEP = 300;

export interface Series {
  t: number[];
  cpu: number[];
  mem: number[];
}

/** One live line chart (uPlot), sized to its box; shared by the container and host pages. */
export function Chart({
  title,
  series,
  values,
  format,
  color,
}: {
  title: string;
  series: Series;
  values: number[];
  format: (v: number) => string;
  color: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // What to draw once uPlot has loaded: samples that came before it (a host's backfill, a
  // tab switched back to) are drawn at once, not from the next sample on.
  const data = useRef<[number[], number[]]>([series.t, values]);
  data.current = [series.t, values];

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
          scales: { y: { range: (_u, _min, max) => [0, Math.max(max * 1.1, 1e-9)] } },
          axes: [axis, { ...axis, size: 70, values: (_u, ticks) => ticks.map(format) }],
          series: [
            {},
            { label: title, stroke: color, fill: `${color}22`, width: 2, points: { show: false } },
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
  }, [title, format, color]);

  useEffect(() => {
    plot.current?.setData([series.t, values]);
  }, [series, values]);

  return <div ref={box} className="chart" aria-label={`${title} over the last minutes`} />;
}

export const cpuFormat = (v: number) => `${v.toFixed(v < 1 ? 2 : v < 10 ? 1 : 0)} %`;

export interface StatsHistory {
  series: Series;
  last: StatsSample | null;
}

/**
 * The container's 1 Hz samples while its page is open (any tab), so switching tabs keeps the
 * graphs' last minutes.
 */
export function useStatsHistory(id: string): StatsHistory {
  const { socket } = useLive();
  const [history, setHistory] = useState<StatsHistory>({
    series: { t: [], cpu: [], mem: [] },
    last: null,
  });

  useEffect(() => {
    if (!socket) return;
    const onStats = (s: StatsSample) => {
      if (s.id !== id) return;
      setHistory((cur) => {
        const t = Date.parse(s.time) / 1000;
        const { series } = cur;
        if (series.t.length && t <= (series.t.at(-1) as number)) return { series, last: s };
        const cut = series.t.length >= KEEP ? 1 : 0;
        return {
          last: s,
          series: {
            t: [...series.t.slice(cut), t],
            cpu: [...series.cpu.slice(cut), s.cpuPercent],
            mem: [...series.mem.slice(cut), s.memoryUsageBytes],
          },
        };
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

export function StatsCharts({
  history: { series, last },
  running,
}: {
  history: StatsHistory;
  running: boolean;
}) {
  if (!running && series.t.length === 0)
    return (
      <div className="panel state">
        <strong>Not running</strong>
        CPU and memory are measured while the container runs: start it to see them live.
      </div>
    );
  return (
    <div className="grid2" data-testid="stats" data-samples={series.t.length}>
      <section className="panel">
        <h2>CPU</h2>
        <div className="big" data-testid="cpu-now">
          {last ? cpuFormat(last.cpuPercent) : "…"}
        </div>
        <Chart title="CPU" series={series} values={series.cpu} format={cpuFormat} color="#1f6feb" />
      </section>
      <section className="panel">
        <h2>Memory</h2>
        <div className="big">
          {last ? bytes(last.memoryUsageBytes) : "…"}
          {last && last.memoryLimitBytes > 0 && (
            <span className="sub" style={{ fontSize: 13 }}>
              {" "}
              of {bytes(last.memoryLimitBytes)}
            </span>
          )}
        </div>
        <Chart title="Memory" series={series} values={series.mem} format={bytes} color="#8250df" />
      </section>
      {last && (
        <section className="panel" style={{ gridColumn: "1 / -1" }}>
          <dl className="facts">
            <dt>Network</dt>
            <dd>
              ↓ {bytes(last.netRxBytes)} · ↑ {bytes(last.netTxBytes)}
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
  );
}
