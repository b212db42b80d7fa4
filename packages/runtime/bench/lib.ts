// What the benchmarks share: logging, percentiles, a clock, timing a process, and the state of
// the tree they ran on (for the report).
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../..", import.meta.url));

export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  mean: number;
  min: number;
  max: number;
}

/** Nearest-rank percentiles. */
export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const rank = (p: number): number => s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
  return {
    n: s.length,
    p50: rank(50),
    p95: rank(95),
    mean: s.reduce((a, b) => a + b, 0) / (s.length || 1),
    min: s[0] ?? NaN,
    max: s[s.length - 1] ?? NaN,
  };
}

/** Milliseconds, monotonic. */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

export interface Timed {
  ms: number;
  code: number | null;
  stderr: string;
}

/** Spawn to exit (and its stderr closed), in ms, of one command. */
export function timeProcess(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], env });
    let stderr = "";
    let exited: { t1: number; code: number | null } | undefined;
    let closed = false;
    const done = (): void => {
      if (exited && closed) resolve({ ms: exited.t1 - t0, code: exited.code, stderr });
    };
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stderr.on("close", () => {
      closed = true;
      done();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      exited = { t1: now(), code };
      done();
    });
  });
}

/** The time of a run that must have succeeded. */
export function must(t: Timed, what: string): number {
  if (t.code !== 0) throw new Error(`${what} exited with ${t.code}: ${t.stderr.trim()}`);
  return t.ms;
}

/**
 * The tree the benchmark ran on, read before it starts (others may commit meanwhile); read
 * only (no index refresh, no lock). `relevant` picks the uncommitted files worth naming.
 */
export function treeState(relevant: (file: string) => boolean = () => true): string {
  let head = "unknown";
  let status = "";
  try {
    head = execFileSync("git", ["-C", REPO, "rev-parse", "--short", "HEAD"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    status = execFileSync(
      "git",
      ["--no-optional-locks", "-C", REPO, "status", "--porcelain", "--", "packages/runtime"],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    );
  } catch {
    // not a git checkout
  }
  const dirty = status
    .split("\n")
    .filter(Boolean)
    .map((l) => l.slice(3).replace(/^packages\/runtime\//, ""));
  if (dirty.length === 0) return head;
  const named = dirty.filter(relevant);
  return (
    `${head} plus ${dirty.length} uncommitted change(s) under packages/runtime` +
    (named.length ? ` (${named.join(", ")})` : "")
  );
}

// ---- /proc ---------------------------------------------------------------------------------

export const CLK_TCK =
  Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

export function readOr(path: string, fallback = ""): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return fallback;
  }
}

/** Fields of /proc/PID/stat after the command name: [0] is state (field 3). */
export function statFields(pid: number): string[] | undefined {
  const stat = readOr(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** utime + stime in clock ticks. */
export function cpuTicks(pid: number): number {
  const f = statFields(pid);
  return f ? Number(f[11]) + Number(f[12]) : 0;
}

export function statusKb(pid: number, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(readOr(`/proc/${pid}/status`));
  return m ? Number(m[1]) : 0;
}

/** The "Machine and tree" list of a report: what a number measured here depends on. */
export function machineLines(tree: string): string[] {
  return [
    `- CPUs: ${cpus().length} (${cpus()[0]?.model ?? "unknown"})`,
    `- memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- kernel: ${release()}`,
    `- node: ${process.version}`,
    `- tree: ${tree} (when the benchmark started)`,
  ];
}

/** A Markdown table: a header row and one row per entry. */
export function markdownTable(header: readonly string[], rows: readonly string[][]): string[] {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
}

/** Writes a report to bench/results (making the folder) and shows it. */
export function writeResults(path: string, report: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, report);
  process.stdout.write(report);
}
