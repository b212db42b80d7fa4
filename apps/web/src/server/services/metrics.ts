// GET /metrics: the fleet's last stats samples in Prometheus' text format, under cAdvisor's
// metric names, so an existing Prometheus/Grafana (dashboards made for cAdvisor) reads them.
import type { StatsSample } from "@corral/protocol";
import type { Db } from "../db.ts";
import type { AgentHub } from "../sockets/agent-hub.ts";

type Sample = StatsSample & { hostId: string };

const METRICS: Array<{
  name: string;
  type: "counter" | "gauge";
  help: string;
  value: (s: Sample) => number;
}> = [
  {
    name: "container_cpu_usage_seconds_total",
    type: "counter",
    help: "Cumulative cpu time consumed in seconds.",
    value: (s) => s.cpuUsageNanos / 1e9,
  },
  {
    name: "container_memory_usage_bytes",
    type: "gauge",
    help: "Current memory usage in bytes, including all memory regardless of when it was accessed.",
    value: (s) => s.memoryUsageBytes,
  },
  {
    name: "container_memory_working_set_bytes",
    type: "gauge",
    help: "Current working set in bytes.",
    value: (s) => s.memoryWorkingSetBytes,
  },
  {
    name: "container_spec_memory_limit_bytes",
    type: "gauge",
    help: "Memory limit for the container.",
    value: (s) => s.memoryLimitBytes,
  },
  {
    name: "container_network_receive_bytes_total",
    type: "counter",
    help: "Cumulative count of bytes received (all interfaces but lo).",
    value: (s) => s.netRxBytes,
  },
  {
    name: "container_network_transmit_bytes_total",
    type: "counter",
    help: "Cumulative count of bytes transmitted (all interfaces but lo).",
    value: (s) => s.netTxBytes,
  },
  {
    name: "container_fs_reads_bytes_total",
    type: "counter",
    help: "Cumulative count of bytes read.",
    value: (s) => s.blockReadBytes,
  },
  {
    name: "container_fs_writes_bytes_total",
    type: "counter",
    help: "Cumulative count of bytes written.",
    value: (s) => s.blockWriteBytes,
  },
  {
    name: "container_processes",
    type: "gauge",
    help: "Number of processes running inside the container.",
    value: (s) => s.pids,
  },
  {
    name: "container_last_seen",
    type: "gauge",
    help: "Last time a container was seen by the exporter.",
    value: (s) => Date.parse(s.time) / 1000,
  },
];

/** A label value escaped as the text format asks (backslash, quote, newline). */
function escape(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labels(pairs: Record<string, string>): string {
  return (
    "{" +
    Object.entries(pairs)
      .map(([k, v]) => `${k}="${escape(v)}"`)
      .join(",") +
    "}"
  );
}

export class MetricsService {
  constructor(
    private readonly db: Db,
    private readonly hub: AgentHub,
  ) {}

  async render(): Promise<string> {
    const hosts = await this.db.host.findMany({ where: { revokedAt: null } });
    const hostName = new Map(hosts.map((h) => [h.id, h.name]));
    const samples = [...this.hub.stats.values()];
    const rows = await this.db.container.findMany({
      where: { id: { in: samples.map((s) => s.id) } },
      select: { id: true, name: true, image: true },
    });
    const byId = new Map(rows.map((r) => [r.id, r]));
    const out: string[] = [
      "# HELP corral_host_up Whether the host's agent is connected (1) or not (0).",
      "# TYPE corral_host_up gauge",
      ...hosts.map(
        (h) =>
          `corral_host_up${labels({ host: h.name, host_id: h.id })} ${h.status === "online" ? 1 : 0}`,
      ),
    ];
    for (const m of METRICS) {
      out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
      for (const s of samples) {
        const c = byId.get(s.id);
        const l = labels({
          id: `/corral/${s.id}`,
          name: c?.name ?? "",
          image: c?.image ?? "",
          host: hostName.get(s.hostId) ?? "",
          host_id: s.hostId,
        });
        out.push(`${m.name}${l} ${m.value(s)}`);
      }
    }
    return out.join("\n") + "\n";
  }
}
