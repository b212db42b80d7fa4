// GET /metrics: the fleet's last stats samples in Prometheus' text format, under cAdvisor's
// metric names, so an existing Prometheus/Grafana (dashboards made for cAdvisor) reads them.
// prom-client writes the format (HELP/TYPE, escaping); each metric's collect() fills it at
// scrape time from what this process holds in memory: the agents' last samples and their
// containers' names (AgentHub). The one database read per scrape is the host list (at most a
// few hundred rows), for corral_host_up and the host label: whether a host is up is the
// fleet's answer, which every web process writes to the database, not this process's view.
// With several web processes, each one's container series are those of the agents connected
// to it (scrape every process as its own target), as were the hand-written ones.
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { StatsSample } from "@corral/protocol";
import type { Db } from "../db.ts";
import type { AgentHub } from "../sockets/agent-hub.ts";

const CONTAINER_LABELS = ["id", "name", "image", "host", "host_id"] as const;
type ContainerLabels = Record<(typeof CONTAINER_LABELS)[number], string>;

const METRICS: Array<{
  name: string;
  type: "counter" | "gauge";
  help: string;
  value: (s: StatsSample) => number;
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

/** What one scrape reads: shared by every metric's collect() of that scrape. */
interface Scrape {
  hosts: Array<{ id: string; name: string; status: string }>;
  /** each sample with its labels, made once per scrape rather than once per metric */
  series: Array<{ sample: StatsSample; labels: ContainerLabels }>;
}

export class MetricsService {
  readonly registry = new Registry();
  private scrape: Promise<Scrape> | undefined;

  constructor(
    private readonly db: Db,
    private readonly hub: AgentHub,
  ) {
    const read = (): Promise<Scrape> => this.read();
    new Gauge({
      name: "corral_host_up",
      help: "Whether the host's agent is connected (1) or not (0).",
      labelNames: ["host", "host_id"],
      registers: [this.registry],
      async collect() {
        const { hosts } = await read();
        this.reset();
        for (const h of hosts)
          this.set({ host: h.name, host_id: h.id }, h.status === "online" ? 1 : 0);
      },
    });
    for (const m of METRICS) {
      const common = { name: m.name, help: m.help, labelNames: CONTAINER_LABELS };
      // A counter's value is the host's cumulative one: set as it is (reset, then one inc).
      if (m.type === "counter")
        new Counter({
          ...common,
          registers: [this.registry],
          async collect() {
            const { series } = await read();
            this.reset();
            for (const { sample, labels } of series) this.inc(labels, m.value(sample));
          },
        });
      else
        new Gauge({
          ...common,
          registers: [this.registry],
          async collect() {
            const { series } = await read();
            this.reset();
            for (const { sample, labels } of series) this.set(labels, m.value(sample));
          },
        });
    }
    // prom-client's default metrics (process_cpu_seconds_total, process_resident_memory_bytes,
    // nodejs_eventloop_lag_seconds, heap and GC) are registered: they are the web process's own
    // load, what an operator watches as the fleet grows (bench:fleet reads the same from /proc),
    // and they cost about 50 series read from process.* and /proc/self at scrape time plus one
    // event-loop delay histogram and a GC observer (neither keeps the process alive). Their
    // names cannot clash with the container_* and corral_* ones.
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** One read for all the collect() calls of a scrape (and of scrapes that overlap it). */
  private read(): Promise<Scrape> {
    this.scrape ??= this.load().finally(() => {
      this.scrape = undefined;
    });
    return this.scrape;
  }

  private async load(): Promise<Scrape> {
    const hosts = await this.db.host.findMany({
      where: { revokedAt: null },
      select: { id: true, name: true, status: true },
    });
    const hostName = new Map(hosts.map((h) => [h.id, h.name]));
    const series: Scrape["series"] = [];
    for (const [hostId, sample] of this.hub.stats.entries()) {
      const c = this.hub.runningContainer(hostId, sample.id);
      series.push({
        sample,
        labels: {
          id: `/corral/${sample.id}`,
          name: c?.name ?? "",
          image: c?.image ?? "",
          host: hostName.get(hostId) ?? "",
          host_id: hostId,
        },
      });
    }
    return { hosts, series };
  }
}
