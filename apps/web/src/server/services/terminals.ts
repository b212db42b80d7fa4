// Terminals: an interactive `exec -it` in a running container, carried by its host's agent as a
// PTY stream (keystrokes in, terminal bytes out, resize). The browsers' channel opens them.
import { randomUUID } from "node:crypto";
import { conflict } from "../errors.ts";
import type { AgentHub, StreamHandlers } from "../sockets/agent-hub.ts";
import type { Actor, AuditService } from "./audit.ts";
import type { ContainerService } from "./containers.ts";

export interface Terminal {
  input(data: Uint8Array): void;
  resize(cols: number, rows: number): void;
  close(): void;
}

/** The shell a terminal starts when the caller names no command (every image has /bin/sh). */
const DEFAULT_SHELL = ["/bin/sh"];

export class TerminalService {
  constructor(
    private readonly containers: ContainerService,
    private readonly hub: AgentHub,
    private readonly audit: AuditService,
  ) {}

  async open(
    id: string,
    opts: { cols: number; rows: number; cmd?: string[] },
    handlers: StreamHandlers,
    actor: Actor,
  ): Promise<Terminal> {
    const c = await this.containers.get(id);
    if (c.state !== "running") {
      throw conflict(`container ${c.name} is ${c.state}: start it to open a terminal`);
    }
    const streamId = randomUUID();
    const cmd = opts.cmd ?? DEFAULT_SHELL;
    // The stream is registered before the command so that no early byte is lost.
    const close = this.hub.openStream(c.hostId, streamId, handlers);
    try {
      await this.hub.command(c.hostId, {
        type: "exec",
        id: c.id,
        cmd,
        tty: true,
        cols: opts.cols,
        rows: opts.rows,
        streamId,
      });
    } catch (err) {
      close();
      throw err;
    }
    await this.audit.record(actor, "container.exec", c.id, { hostId: c.hostId, cmd });
    return {
      input: (data) => this.hub.streamInput(c.hostId, streamId, { data }),
      resize: (cols, rows) => this.hub.streamResize(c.hostId, streamId, cols, rows),
      close,
    };
  }
}
