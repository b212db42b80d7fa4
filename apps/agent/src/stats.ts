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

export class StatsSampler {
  constructor(private readonly client: RuntimeClient) {}

  /**
   * One sample per running container; a container that stopped meanwhile is skipped. The
   * daemon keeps each container's previous sample, so at 1 Hz no request waits; a container's
   * first request waits a second for its second sample.
   */
  async sample(running: ReadonlyMap<string, number>): Promise<StatsSample[]> {
    const samples = await Promise.all(
      [...running.keys()].map((id) =>
        this.client
          .call<ContainerStats>("GET", `/v1/containers/${id}/stats`)
          .then(toStatsSample)
          .catch(() => undefined),
      ),
    );
    return samples.filter((s): s is StatsSample => s !== undefined);
  }
}
