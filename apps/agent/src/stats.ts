// 1 Hz stats of running containers, as the runtime daemon's stats route computes them (the one
// place CPU % over an interval and the container's network counters are worked out, for
// `corral-rt stats` and the agent alike): here they are only put in the protocol's shape.
import type { StatsSample } from "@corral/protocol";
import type { ContainerStats, RuntimeClient } from "@corral/runtime";

/** The protocol's sample from the daemon's stats of one container. */
export function toStatsSample(s: ContainerStats): StatsSample {
  return {
    id: s.id,
    time: s.readAt,
    cpuPercent: s.cpuPercent,
    cpuUsageNanos: s.cpu.usageNanos,
    memoryUsageBytes: s.memory.usageBytes,
    memoryWorkingSetBytes: s.memory.workingSetBytes,
    memoryLimitBytes: s.memory.limitBytes,
    netRxBytes: s.network.rxBytes,
    netTxBytes: s.network.txBytes,
    blockReadBytes: s.io?.readBytes ?? 0,
    blockWriteBytes: s.io?.writeBytes ?? 0,
    pids: s.pids.current,
  };
}

/**
 * Every running container's sample in one request a second (the daemon's `GET /v1/stats`): one
 * answer for the whole host rather than a request per container. The daemon keeps each
 * container's previous sample, so at 1 Hz no request waits; its first request waits a second.
 */
export async function sampleHost(client: RuntimeClient): Promise<StatsSample[]> {
  return (await client.call<ContainerStats[]>("GET", "/v1/stats")).map(toStatsSample);
}
