// One point of a stats graph (a container's or a host's CPU, memory and I/O): the shape the
// server stores and sends and the pages draw, and how a 1 Hz sample becomes one. The server's
// full-rate ring and the pages' live samples both make their points here, so the two join
// without a seam (mergeLive). No server imports: the pages import it too, like access.ts.

/** One point of a graph: `t` in seconds (a minute's start for minute points). Rates in bytes/s. */
export interface StatsPoint {
  t: number;
  cpu: number;
  cpuMax: number;
  mem: number;
  memMax: number;
  netRx: number | null;
  netTx: number | null;
  blockRead: number | null;
  blockWrite: number | null;
}

/**
 * A 1 Hz sample (`t` in seconds, CPU in percent of one CPU, memory in bytes) as a graph point:
 * no rates (one sample has no interval), its peak is itself.
 */
export function samplePoint(t: number, cpu: number, mem: number): StatsPoint {
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
