// Containers that outlived a daemon: the shim that reports their exit was the old daemon's
// child, so this one polls for the exit itself (the exit file, or the process and shim gone).
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ContainerRecord } from "../container/record.js";
import { processStartTime } from "../util/proc.js";

export class AdoptedContainers {
  private readonly ids = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  /** `record`: the container's current record (undefined once removed); `onExit`: records its exit. */
  constructor(
    private readonly containerDir: (id: string) => string,
    private readonly record: (id: string) => ContainerRecord | undefined,
    private readonly onExit: (id: string) => Promise<void>,
  ) {}

  add(id: string): void {
    this.ids.add(id);
  }

  /** Polls every 500 ms from now until close(). */
  watch(): void {
    this.timer = setInterval(() => void this.poll(), 500);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    for (const id of [...this.ids]) {
      const r = this.record(id);
      if (!r) {
        this.ids.delete(id);
        continue;
      }
      const exited = existsSync(join(this.containerDir(id), "exit"));
      const gone = processStartTime(r.state.pid) !== r.state.pidStartTime;
      const shimGone = r.state.shimPid === 0 || processStartTime(r.state.shimPid) === undefined;
      // The shim writes the exit file right after the container dies; give it until it is gone.
      if (exited || (gone && shimGone)) {
        this.ids.delete(id);
        await this.onExit(id);
      }
    }
  }
}
