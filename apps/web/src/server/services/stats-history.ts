// Stats history of containers and hosts: the last 15 minutes at full rate in memory, 24 hours of
// 1-minute points in the database. Samples are cheap to record (no I/O); closed minutes are
// written in batches every few seconds and points older than a day are pruned, so 10,000
// subjects at 1 Hz cost ~170 row inserts a second in a handful of statements.
import type { StatsSample } from "@corral/protocol";
import { z } from "zod";
import type { Db } from "../db.ts";
import { notFound } from "../errors.ts";
import type { StatsPoint } from "../../stats-point.ts";
import {
  LiveRing,
  MINUTE_MS,
  MinuteDownsampler,
  type Sample,
  type SubjectKind,
} from "./stats-downsample.ts";

export { SUBJECT_KINDS, type Sample, type SubjectKind } from "./stats-downsample.ts";

export const STATS_RANGES = {
  "15m": 15 * MINUTE_MS,
  "1h": 60 * MINUTE_MS,
  "24h": 1440 * MINUTE_MS,
};
export type StatsRange = keyof typeof STATS_RANGES;
export const statsRangeInput = z.object({
  range: z
    .enum(Object.keys(STATS_RANGES) as [StatsRange, ...StatsRange[]], {
      message: "range is 15m, 1h or 24h",
    })
    .default("15m"),
});

export interface StatsHistoryView {
  range: StatsRange;
  /** seconds between points: 1 (15m, from memory) or 60 (database minutes) */
  resolutionSeconds: number;
  points: StatsPoint[];
}

const KEEP_MS = STATS_RANGES["24h"];
const FLUSH_EVERY_MS = 10_000;
const PRUNE_EVERY_MS = 10 * MINUTE_MS;
/** Rows per INSERT (one bound parameter each). */
const INSERT_CHUNK = 1000;

/** Unwritten minutes kept while the database fails: 20 minutes of 10,000 subjects. */
const MAX_PENDING = 200_000;

const key = (kind: SubjectKind, id: string) => `${kind}:${id}`;

/** A container sample from an agent as a subject sample. */
export function containerSample(s: StatsSample): Sample {
  return {
    timeMs: Date.parse(s.time),
    cpuPercent: s.cpuPercent,
    memoryBytes: s.memoryUsageBytes,
    netRxBytes: s.netRxBytes,
    netTxBytes: s.netTxBytes,
    blockReadBytes: s.blockReadBytes,
    blockWriteBytes: s.blockWriteBytes,
  };
}

export class StatsHistoryService {
  private readonly minutes = new MinuteDownsampler();
  private readonly live = new LiveRing(STATS_RANGES["15m"] / 1000);
  /** closed minutes not written yet */
  private pending: Array<{ kind: SubjectKind; subjectId: string; point: StatsPoint }> = [];
  private flushing: Promise<void> = Promise.resolve();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly db: Db,
    private readonly log: (line: string) => void = (l) => console.log(l),
    private readonly now: () => number = Date.now,
  ) {}

  /** the other web processes (askPeers) */
  private peers:
    ((kind: SubjectKind, id: string, range: StatsRange) => Promise<StatsHistoryView[]>) | undefined;

  /** Starts the periodic batch writes and pruning (not in unit tests that drive them by hand). */
  start(): void {
    const every = (ms: number, f: () => Promise<void>) => {
      const t = setInterval(
        () => void f().catch((e: Error) => this.log(`stats history: ${e.message}`)),
        ms,
      );
      t.unref();
      this.timers.push(t);
    };
    every(FLUSH_EVERY_MS, () => this.flush());
    every(PRUNE_EVERY_MS, async () => void (await this.prune()));
    void this.prune().catch(() => undefined);
  }

  /**
   * The one entry for every reporter: a container's or a host's sample (1 Hz or slower). No I/O:
   * the minute it closes is written with the next batch.
   */
  recordSample(kind: SubjectKind, subjectId: string, sample: Sample): void {
    if (!Number.isFinite(sample.timeMs) || !(kind in KIND_SQL)) return;
    const k = key(kind, subjectId);
    this.live.add(k, sample);
    const closed = this.minutes.add(k, sample);
    if (!closed) return;
    this.pending.push({ kind, subjectId, point: closed });
    // The database is away: the oldest unwritten minutes go first, memory stays bounded.
    if (this.pending.length > MAX_PENDING)
      this.pending.splice(0, this.pending.length - MAX_PENDING);
  }

  recordContainerSamples(samples: StatsSample[]): void {
    for (const s of samples) this.recordSample("container", s.id, containerSample(s));
  }

  /** Writes every closed minute (and those of subjects gone quiet) in a few INSERTs. */
  flush(): Promise<void> {
    for (const [k, point] of this.minutes.closeIdle(this.now())) {
      const [kind, subjectId] = split(k);
      this.pending.push({ kind, subjectId, point });
    }
    // One flush at a time: a slow disk must not make two batches write the same rows.
    this.flushing = this.flushing.catch(() => undefined).then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending.slice(0, INSERT_CHUNK);
      // One INSERT of many rows with every value written in (numbers ours, finite, formatted
      // here; ids as standard SQL string literals): Prisma's createMany spent ~10x longer per
      // row, on the event loop. No placeholders, so the same text runs on SQLite and PostgreSQL
      // (which number them differently).
      const rows = batch.map(({ kind, subjectId, point: p }) => {
        const values = [
          sqlNumber(p.cpu) ?? 0,
          sqlNumber(p.cpuMax) ?? 0,
          sqlNumber(p.mem) ?? 0,
          sqlNumber(p.memMax) ?? 0,
          sqlNumber(p.netRx) ?? "NULL",
          sqlNumber(p.netTx) ?? "NULL",
          sqlNumber(p.blockRead) ?? "NULL",
          sqlNumber(p.blockWrite) ?? "NULL",
        ];
        return `(${KIND_SQL[kind]},${sqlString(subjectId)},'${sqlTime(p.t)}',${values.join(",")})`;
      });
      await this.db.$executeRawUnsafe(
        `INSERT INTO "StatsPoint" ("kind","subjectId","time","cpu","cpuMax","mem","memMax","netRx","netTx","blockRead","blockWrite") VALUES ${rows.join(",")}`,
      );
      this.pending.splice(0, batch.length);
    }
  }

  /** Forgets points older than 24 h (and full-rate samples older than 15 min). */
  async prune(): Promise<number> {
    const now = this.now();
    this.live.forgetOlder((now - STATS_RANGES["15m"]) / 1000);
    const r = await this.db.statsPoint.deleteMany({
      where: { time: { lt: new Date(now - KEEP_MS) } },
    });
    return r.count;
  }

  /**
   * Several web processes (CORRAL_REDIS_URL): a subject's samples arrive on the process its
   * agent reached, which alone holds its last 15 minutes at full rate and its unwritten
   * minutes. `ask` gets the other processes' own views of a subject (app.ts wires it).
   */
  askPeers(ask: (kind: SubjectKind, id: string, range: StatsRange) => Promise<StatsHistoryView[]>) {
    this.peers = ask;
  }

  /**
   * A subject's graph: full rate for 15m, minute points (stored, pending and open) otherwise.
   * A subject whose samples do not come to this process is read from the one they come to.
   */
  async history(
    kind: SubjectKind,
    subjectId: string,
    range: StatsRange,
  ): Promise<StatsHistoryView> {
    const own = await this.ownHistory(kind, subjectId, range);
    const recentSec = Math.floor((this.now() - 2 * MINUTE_MS) / 1000);
    if (!this.peers || this.live.read(key(kind, subjectId), recentSec).length > 0) return own;
    const theirs = await this.peers(kind, subjectId, range).catch(() => []);
    return theirs.reduce((a, b) => (b.points.length > a.points.length ? b : a), own);
  }

  /** This process's view of a subject's graph (what another process asks of it). */
  async ownHistory(
    kind: SubjectKind,
    subjectId: string,
    range: StatsRange,
  ): Promise<StatsHistoryView> {
    const k = key(kind, subjectId);
    const since = this.now() - STATS_RANGES[range];
    if (range === "15m") {
      return { range, resolutionSeconds: 1, points: this.live.read(k, Math.floor(since / 1000)) };
    }
    const rows = await this.db.statsPoint.findMany({
      where: { kind, subjectId, time: { gte: new Date(since) } },
      orderBy: { time: "asc" },
    });
    const points: StatsPoint[] = rows.map((r) => ({
      t: r.time.getTime() / 1000,
      cpu: r.cpu,
      cpuMax: r.cpuMax,
      mem: r.mem,
      memMax: r.memMax,
      netRx: r.netRx,
      netTx: r.netTx,
      blockRead: r.blockRead,
      blockWrite: r.blockWrite,
    }));
    for (const p of this.pending)
      if (p.kind === kind && p.subjectId === subjectId) points.push(p.point);
    const open = this.minutes.open(k);
    if (open) points.push(open);
    // A server restart within a minute can store that minute twice: the later one wins.
    const byTime = new Map(points.map((p) => [p.t, p]));
    return {
      range,
      resolutionSeconds: 60,
      points: [...byTime.values()].sort((a, b) => a.t - b.t),
    };
  }

  /** A container's graph; 404 for a container the fleet does not know. */
  async forContainer(id: string, range: StatsRange): Promise<StatsHistoryView> {
    if (!(await this.db.container.findUnique({ where: { id }, select: { id: true } })))
      throw notFound(`no container ${id}`);
    return this.history("container", id, range);
  }

  /** A host's own graph (its agent's 1 Hz host samples); 404 for a host the fleet does not know. */
  async forHost(id: string, range: StatsRange): Promise<StatsHistoryView> {
    if (!(await this.db.host.findUnique({ where: { id }, select: { id: true } })))
      throw notFound(`no host ${id}`);
    return this.history("host", id, range);
  }

  /** Writes what is open (a clean shutdown loses no minute) and stops the timers. */
  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const [k, point] of this.minutes.drain()) {
      const [kind, subjectId] = split(k);
      this.pending.push({ kind, subjectId, point });
    }
    this.flushing = this.flushing.catch(() => undefined).then(() => this.write());
    await this.flushing;
  }
}

/** A number as SQL text; undefined for null, NaN and Infinity. */
function sqlNumber(v: number | null): string | undefined {
  return v !== null && Number.isFinite(v) ? String(v) : undefined;
}

/** The kinds as SQL literals: nothing else is ever written into the statement. */
const KIND_SQL: Record<SubjectKind, string> = { container: "'container'", host: "'host'" };

/** Seconds as Prisma stores a DateTime in SQLite (ISO 8601 text with +00:00), so reads compare. */
/** A standard SQL string literal (quotes doubled; NUL, which neither database stores, dropped). */
function sqlString(v: string): string {
  return `'${v.replaceAll("\0", "").replaceAll("'", "''")}'`;
}

function sqlTime(sec: number): string {
  return new Date(sec * 1000).toISOString().replace("Z", "+00:00");
}

function split(k: string): [SubjectKind, string] {
  const at = k.indexOf(":");
  return [k.slice(0, at) as SubjectKind, k.slice(at + 1)];
}
