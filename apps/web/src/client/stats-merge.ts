// A graph's points: the stored history from the server, then the live samples pushed since.
// Shared by the container and host pages, so both join the two the same way.
import type { StatsPoint } from "../server/services/stats-history.ts";

/** A live 1 Hz sample (`t` in seconds) as a graph point: no rates, its peak is itself. */
export function livePoint(t: number, cpu: number, mem: number): StatsPoint {
  return {
    t,
    cpu,
    cpuMax: cpu,
    mem,
    memMax: mem,
    netRx: null,
    netTx: null,
    blockRead: null,
    blockWrite: null,
  };
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
