// `corral-rt stats`: Docker's columns (CPU %, MEM USAGE / LIMIT, MEM %, NET I/O, BLOCK I/O,
// PIDS) for the named containers, or every running one. The numbers come from the daemon's
// stats route (daemon/stats.ts), which the agent uses too; this only formats them.
import type { Command } from "commander";
import type { ContainerStats } from "../daemon/stats.js";
import { api, enc } from "./common.js";
import { formatBytes } from "./format.js";
import { printFormatted, STATS_FORMAT } from "./output-format.js";

/** Docker's units.HumanSize: decimal units, 3 significant digits ("1.23kB", "648B"). */
export function humanSize(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** One row of `docker stats`, with its field names. */
export function statsRow(s: ContainerStats, given: string, trunc: boolean): Record<string, string> {
  const mem = s.memory;
  return {
    Container: given,
    ID: trunc ? s.id.slice(0, 12) : s.id,
    Name: s.name,
    CPUPerc: `${s.cpuPercent.toFixed(2)}%`,
    MemUsage: `${formatBytes(mem.workingSetBytes)} / ${formatBytes(mem.limitBytes)}`,
    MemPerc: `${(mem.limitBytes ? (mem.workingSetBytes / mem.limitBytes) * 100 : 0).toFixed(2)}%`,
    NetIO: `${humanSize(s.network.rxBytes)} / ${humanSize(s.network.txBytes)}`,
    BlockIO: `${humanSize(s.io?.readBytes ?? 0)} / ${humanSize(s.io?.writeBytes ?? 0)}`,
    PIDs: String(s.pids.current),
  };
}

export function registerStatsCommand(program: Command): void {
  program
    .command("stats")
    .description("show containers' CPU, memory, network, block I/O and pids (default: all running)")
    .argument("[containers...]")
    .option("--no-stream", "print one sample (CPU % over one second) and exit")
    .option("--no-trunc", "do not truncate IDs")
    .option("--format <format>", "json, a Go template, or table TEMPLATE (Docker's fields)")
    .action(async (names: string[], o: { stream: boolean; trunc: boolean; format?: string }) => {
      for (;;) {
        const rows: Record<string, string>[] = [];
        if (names.length === 0) {
          // Every running container in one answer (its first sample waits a second for CPU %).
          for (const s of await api<ContainerStats[]>("GET", "/v1/stats"))
            rows.push(statsRow(s, s.id, o.trunc));
        } else {
          // All at once: the daemon's first sample of each waits a second for its CPU %.
          const results = await Promise.allSettled(
            names.map((n) => api<ContainerStats>("GET", `/v1/containers/${enc(n)}/stats`)),
          );
          results.forEach((r, i) => {
            if (r.status === "fulfilled") rows.push(statsRow(r.value, names[i] as string, o.trunc));
            else {
              // A named container that is gone or stopped is an error.
              process.stderr.write(`corral-rt: ${(r.reason as Error).message}\n`);
              process.exitCode = 1;
            }
          });
        }
        if (o.stream && process.stdout.isTTY) process.stdout.write("\x1b[2J\x1b[H");
        printFormatted(o.format ?? "table", rows, STATS_FORMAT);
        if (!o.stream || (names.length && rows.length === 0)) return;
        await new Promise((r) => setTimeout(r, 1000));
      }
    });
}
