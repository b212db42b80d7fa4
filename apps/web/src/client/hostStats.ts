"use client";
// The hosts' own load as their agents push it (hostStats:watch), kept per host (five minutes
// for the fleet's sparklines, more for the host page's graphs, which draw them after the
// host's stored history).
import { useEffect, useState } from "react";
import type { HostStatsSample } from "@corral/protocol";
import type { Series } from "./StatsCharts.tsx";
import { useLive } from "./live.tsx";

/** Five minutes at 1 Hz: what the fleet's sparklines keep. */
const KEEP = 300;

export interface HostHistory {
  /** t in seconds, cpu in % of the machine, mem in bytes used */
  series: Series;
  last: HostStatsSample | null;
}

const EMPTY: HostHistory = { series: { t: [], cpu: [], mem: [] }, last: null };

function append(cur: HostHistory, samples: HostStatsSample[], keep: number): HostHistory {
  let { t, cpu, mem } = cur.series;
  let last = cur.last;
  for (const s of samples) {
    const at = Date.parse(s.time) / 1000;
    if (t.length && at <= (t.at(-1) as number)) continue; // the backfill overlaps what we have
    t = [...t, at];
    cpu = [...cpu, s.cpuPercent];
    mem = [...mem, s.memoryUsedBytes];
    last = s;
  }
  const cut = Math.max(0, t.length - keep);
  return {
    series: { t: t.slice(cut), cpu: cpu.slice(cut), mem: mem.slice(cut) },
    last,
  };
}

/**
 * Live samples of each host in `hostIds` (watched while the calling page is open), the last
 * `keep` of each.
 */
export function useHostStats(hostIds: string[], keep = KEEP): Map<string, HostHistory> {
  const { socket } = useLive();
  const [byHost, setByHost] = useState<Map<string, HostHistory>>(new Map());
  const key = [...hostIds].sort().join(",");

  useEffect(() => {
    if (!socket || !key) return;
    const ids = key.split(",");
    const wanted = new Set(ids);
    const onStats = ({ hostId, samples }: { hostId: string; samples: HostStatsSample[] }) => {
      if (!wanted.has(hostId)) return;
      setByHost((cur) => new Map(cur).set(hostId, append(cur.get(hostId) ?? EMPTY, samples, keep)));
    };
    const watch = () => {
      for (const hostId of ids) socket.emit("hostStats:watch", { hostId });
    };
    socket.on("host:stats", onStats);
    socket.on("connect", watch);
    if (socket.connected) watch();
    return () => {
      socket.off("host:stats", onStats);
      socket.off("connect", watch);
      for (const hostId of ids) socket.emit("hostStats:unwatch", { hostId });
    };
  }, [socket, key, keep]);
  return byHost;
}
