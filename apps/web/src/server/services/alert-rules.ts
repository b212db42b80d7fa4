// When something deserves an alert: a container that dies unexpectedly (non-zero exit or
// killed, not stopped by a user through Corral), an OOM kill, a host that stays offline. Pure
// and clock-driven (the caller passes the time), so the rules are tested without timers.
import type { ContainerEvent } from "@corral/protocol";

export const NOTICE_KINDS = ["container-died", "container-oom", "host-offline"] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

export interface AlertDraft {
  kind: NoticeKind;
  hostId: string;
  /** when it happened (ISO) */
  time: string;
  container?: {
    id: string;
    name: string;
    image: string;
    exitCode: number | null;
    oomKilled: boolean;
  };
}

/**
 * How long a die waits for the user action that explains it. The runtime reports a `stop`
 * after the exit it caused (and `restart` is a stop), while `kill` (also `rm -f`) comes before.
 */
export const DIE_GRACE_MS = 2000;
/** A kill this recent explains a die (a SIGTERM to a slow process: its stop timeout and more). */
const USER_KILL_WINDOW_MS = 5 * 60_000;
/** An agent restart (an upgrade) is not an outage: the host must stay away this long. */
export const HOST_OFFLINE_GRACE_MS = 30_000;

/** The alert an exit deserves, if any. */
export function exitAlert(e: {
  exitCode: number | null | undefined;
  oomKilled: boolean;
  userAsked: boolean;
}): "container-died" | "container-oom" | null {
  // The kernel's OOM killer is never a user's doing, even during a stop.
  if (e.oomKilled) return "container-oom";
  if (e.userAsked) return null;
  // An unknown code (the runtime could not see the exit) is not a clean exit either.
  return e.exitCode === 0 ? null : "container-died";
}

export class AlertRules {
  /** container id -> when a user (through corral-rt, the API or the dashboard) last killed it */
  private readonly userKills = new Map<string, number>();
  private readonly heldDies = new Map<string, { draft: AlertDraft; dueMs: number }>();
  private readonly offline = new Map<string, { draft: AlertDraft; dueMs: number }>();

  constructor(
    private readonly dieGraceMs = DIE_GRACE_MS,
    private readonly hostGraceMs = HOST_OFFLINE_GRACE_MS,
  ) {}

  /** A container event as its host reported it, in the host's order. */
  containerEvent(hostId: string, e: ContainerEvent, nowMs: number): void {
    if (e.type === "kill") {
      this.userKills.set(e.id, nowMs);
      this.heldDies.delete(e.id);
    } else if (e.type === "stop" || e.type === "destroy") {
      // the die just before was this stop's (or this rm -f's): not an alert
      this.heldDies.delete(e.id);
      this.userKills.delete(e.id);
    } else if (e.type === "die") {
      const killed = this.userKills.get(e.id);
      this.userKills.delete(e.id);
      const kind = exitAlert({
        exitCode: e.exitCode,
        oomKilled: e.oomKilled ?? false,
        userAsked: killed !== undefined && nowMs - killed <= USER_KILL_WINDOW_MS,
      });
      if (!kind) return;
      const draft: AlertDraft = {
        kind,
        hostId,
        time: e.time,
        container: {
          id: e.id,
          name: e.name,
          image: e.image,
          exitCode: e.exitCode ?? null,
          oomKilled: e.oomKilled ?? false,
        },
      };
      // An OOM kill needs no explanation: at once. Any other die waits for a stop that follows.
      this.heldDies.set(e.id, {
        draft,
        dueMs: kind === "container-oom" ? nowMs : nowMs + this.dieGraceMs,
      });
    }
  }

  hostOffline(hostId: string, nowMs: number): void {
    this.offline.set(hostId, {
      draft: { kind: "host-offline", hostId, time: new Date(nowMs).toISOString() },
      dueMs: nowMs + this.hostGraceMs,
    });
  }

  hostOnline(hostId: string): void {
    this.offline.delete(hostId);
  }

  /** The alerts whose wait is over, once each. */
  due(nowMs: number): AlertDraft[] {
    const out: AlertDraft[] = [];
    for (const held of [this.heldDies, this.offline]) {
      for (const [k, h] of held) {
        if (h.dueMs > nowMs) continue;
        held.delete(k);
        out.push(h.draft);
      }
    }
    for (const [id, t] of this.userKills)
      if (nowMs - t > USER_KILL_WINDOW_MS) this.userKills.delete(id);
    return out;
  }
}
