// The browsers' live channel: what the agents report is pushed as it is stored (hosts,
// containers, 1 Hz stats of the containers a page watches), and the streams a page opens
// (logs that follow, terminals, pull progress) run over the same connection. Every payload
// from a browser is validated; a socket's streams end with it. A change to a user (role,
// removal, password) or the end of a session reaches their sockets on every web process.
import type { Namespace, Socket } from "socket.io";
import { describeZodError } from "@corral/protocol";
import { z } from "zod";
import {
  openExecInput,
  openLogsInput,
  pullInput,
  streamCloseInput,
  streamInputInput,
  streamResizeInput,
  watchHostStatsInput,
  watchStatsInput,
  type Ack,
  type BrowserToServer,
  type ServerToBrowser,
} from "../../live/events.ts";
import { clientAddress } from "../auth-request.ts";
import { toAppError } from "../errors.ts";
import { can, denial, type Permission } from "../permissions.ts";
import type { AuditView } from "../services/audit.ts";
import type { AuthUser, SessionEndReason } from "../services/auth.ts";
import type { Services } from "../services/index.ts";
import { TerminalService, type Terminal } from "../services/terminals.ts";
import { hashSecret } from "../tokens.ts";
import { StatsInterest } from "./stats-interest.ts";

type BrowserNamespace = Namespace<BrowserToServer, ServerToBrowser>;
type BrowserSocket = Socket<BrowserToServer, ServerToBrowser>;

/**
 * What one web process tells the others (several processes: CORRAL_REDIS_URL). Each acts on its
 * own sockets: nothing waits for an answer, so a busy or stopped process delays nobody (the
 * adapter's fetchSockets waits up to 5 s for every process, and fails if one is silent).
 */
interface PeerEvents {
  /** the user changed: recheck their sockets' sessions and roles */
  "user:recheck": (userId: string) => void;
  /** the session (by its hash) ended: tell its sockets why and disconnect them */
  "session:end": (sessionHash: string, reason: SessionEndReason) => void;
}

/** Every connected browser: the fleet's changes go to all of them. */
const FLEET_ROOM = "fleet";
/** Browsers whose role may read the audit log: each new entry is pushed to them. */
const AUDIT_ROOM = "audit";
/** The browsers of users who may see webhook deliveries. */
const WEBHOOKS_ROOM = "webhooks";
/** The browsers of users who may see every user's API tokens: each token's change is pushed. */
const TOKENS_ROOM = "tokens";
/** The rooms that follow a socket's role, with what each needs (a role change moves them). */
const ROLE_ROOMS = [
  [AUDIT_ROOM, "audit.read"],
  [WEBHOOKS_ROOM, "webhooks.manage"],
  [TOKENS_ROOM, "tokens.manage"],
] as const satisfies ReadonlyArray<readonly [string, Permission]>;
/** A user's browsers: their own tokens' changes; a change to the user rechecks them. */
const userRoom = (userId: string) => `user:${userId}`;
/** One browser session's sockets, named by the secret's hash (room names cross Redis). */
const sessionRoom = (sessionHash: string) => `session:${sessionHash}`;
/** Audit actions that change what a user's open sockets may do. */
const USER_CHANGES = new Set(["user.role", "user.remove", "user.password"]);
const STATS_ROOM = "stats:";
const statsRoom = (id: string) => STATS_ROOM + id;
const HOST_STATS_ROOM = "hoststats:";
const hostStatsRoom = (hostId: string) => HOST_STATS_ROOM + hostId;
interface StreamEntry {
  close(): void;
  terminal?: Terminal;
}

/** How long a host's changes are gathered into one push of its view. */
const HOST_PUSH_COALESCE_MS = 50;
/**
 * What each event a browser sends requires. Typed over every declared event, and checked for
 * every packet before its handler: an event missing here is refused (deny by default).
 */
export const SOCKET_PERMISSIONS: Record<keyof BrowserToServer, Permission> = {
  "stats:watch": "read",
  "stats:unwatch": "read",
  "hostStats:watch": "read",
  "hostStats:unwatch": "read",
  "logs:open": "read",
  "exec:open": "terminal.open",
  // a terminal's keystrokes: only an operator's socket has one, but the rule is the terminal's
  "stream:input": "terminal.open",
  "stream:resize": "terminal.open",
  "stream:close": "read",
  "stream:ping": "read",
  "image:pull": "images.write",
};

/**
 * The check every packet from a browser passes before its handler: the event's permission
 * against the socket's role. A refused one is answered (when it asks) and dropped.
 */
export function socketGate(currentRole: string | (() => string)) {
  return ([event, ...args]: unknown[], next: (err?: Error) => void): void => {
    const role = typeof currentRole === "function" ? currentRole() : currentRole;
    const permission = (SOCKET_PERMISSIONS as Record<string, Permission | undefined>)[
      String(event)
    ];
    if (permission && can(role, permission)) return next();
    const ack = args.at(-1);
    if (typeof ack === "function") {
      (ack as Ack<never>)({
        ok: false,
        error: permission ? denial(role, permission) : `${String(event)} is not an event`,
      });
    }
    // dropped: next() is not called, so no handler runs
  };
}

/**
 * New rows of the event log go to every browser as they are stored. Every write of an event
 * (a container delta, a snapshot, a host going on- or offline) is followed by a hub change, so
 * those changes, gathered for a moment, trigger one read of the rows after the last one pushed.
 */
function pushNewEvents(ns: BrowserNamespace, services: Services): void {
  let last = services.events.lastId().catch(() => 0);
  let due = false;
  const flush = (): void => {
    due = false;
    last = last.then(async (after) => {
      const rows = await services.events.after(after).catch(() => []);
      for (const e of rows) ns.to(FLEET_ROOM).emit("event", e);
      return rows.at(-1)?.id ?? after;
    });
  };
  const schedule = (): void => {
    if (due) return;
    due = true;
    setTimeout(flush, HOST_PUSH_COALESCE_MS).unref();
  };
  services.hub.changes.on("host", schedule);
  services.hub.changes.on("container", schedule);
}

export function attachBrowserLive(
  anyNs: Namespace,
  services: Services,
  opts: { cluster?: boolean } = {},
): void {
  const ns = anyNs as unknown as BrowserNamespace;
  // Several web processes: the browsers watching a container or a host may be on another one.
  const elsewhere = opts.cluster
    ? new StatsInterest(anyNs, [STATS_ROOM, HOST_STATS_ROOM], (room) => {
        if (room.startsWith(HOST_STATS_ROOM)) {
          // the last two minutes (the agent's process has them): the other process's new
          // watcher does not start empty; a watcher that had them drops the repeats by time
          const hostId = room.slice(HOST_STATS_ROOM.length);
          const samples = services.hostStats.recent(hostId);
          if (samples.length) ns.to(room).emit("host:stats", { hostId, samples });
          return;
        }
        const last = services.hub.stats.get(room.slice(STATS_ROOM.length));
        if (last) ns.to(room).emit("stats", last);
      })
    : undefined;
  /**
   * To a stats room's browsers: through the adapter (Redis) only while a browser on another
   * process watches it, else to this process's alone (nothing leaves the process).
   */
  const toWatchers = (room: string) =>
    elsewhere?.watchedElsewhere(room)
      ? ns.to(room)
      : ns.adapter.rooms.has(room)
        ? ns.local.to(room)
        : undefined;
  const terminals = new TerminalService(services.containers, services.hub, services.audit);
  const hub = services.hub.changes;

  // A burst of a host's changes (a snapshot, many containers at once) becomes one push of its
  // view: the counts are read once per burst, not once per container.
  const hostsDue = new Set<string>();
  hub.on("host", (hostId) => {
    if (hostsDue.has(hostId)) return;
    hostsDue.add(hostId);
    setTimeout(() => {
      hostsDue.delete(hostId);
      services.hosts.get(hostId).then(
        (h) => ns.to(FLEET_ROOM).emit("host", h),
        () => undefined, // revoked or gone: nothing to show
      );
    }, HOST_PUSH_COALESCE_MS).unref();
  });
  hub.on("container", (hostId, id) => {
    services.containers.get(id).then(
      (c) => ns.to(FLEET_ROOM).emit("container", { hostId, id, container: c }),
      () => ns.to(FLEET_ROOM).emit("container", { hostId, id, container: null }),
    );
  });
  hub.on("resync", (hostId) => ns.to(FLEET_ROOM).emit("resync", { hostId }));
  hub.on("removed", (hostId) => ns.to(FLEET_ROOM).emit("host:gone", { hostId }));
  // A host's load reaches the browsers of every process the way a container's stats do, by
  // lease, not as a room broadcast through the adapter: at 200+ hosts × 1 Hz a broadcast is a
  // Redis PUBLISH a sample that every process receives and decodes, watched or not (most of the
  // time nobody has a host page or the fleet open); with leases a sample crosses only while
  // another process watches that host, and the lease traffic is a few messages a minute.
  services.hostStats.changes.on("sample", (hostId, sample) => {
    toWatchers(hostStatsRoom(hostId))?.emit("host:stats", { hostId, samples: [sample] });
  });
  for (const kind of ["images", "networks", "volumes"] as const)
    hub.on(kind, (hostId) => ns.to(FLEET_ROOM).emit(kind, { hostId }));
  pushNewEvents(ns, services);
  services.notices.changes.on("notice", (n) => ns.to(FLEET_ROOM).emit("notice", n));
  services.webhooks.changes.on("delivery", () => ns.to(WEBHOOKS_ROOM).emit("webhooks:changed"));
  hub.on("stats", (_hostId, samples) => {
    for (const s of samples) toWatchers(statsRoom(s.id))?.emit("stats", s);
  });

  // API tokens: each change to the token's owner and to whoever may see everyone's (the Tokens
  // page's own rule). A user's removal (below) takes their tokens with it.
  services.tokens.changes.on("change", (c) => {
    const owner = c.kind === "put" ? c.token.userId : c.userId;
    ns.to(userRoom(owner)).to(TOKENS_ROOM).emit("token", c);
  });

  const peers = anyNs as unknown as Namespace<
    Record<string, never>,
    Record<string, never>,
    PeerEvents
  >;
  /** This process's sockets in a room (no cluster round trip). */
  const ownSockets = (room: string): BrowserSocket[] =>
    [...(ns.adapter.rooms.get(room) ?? [])].flatMap((id) => ns.sockets.get(id) ?? []);
  /**
   * The page hears why before it is cut: a logout sends it to the login page, an invalid
   * session to log in and come back (src/client/live.tsx).
   */
  const endSocket = (socket: BrowserSocket, reason: SessionEndReason): void => {
    socket.emit("session:ended", { reason });
    socket.disconnect(true);
  };
  const endOwnSession = (sessionHash: string, reason: SessionEndReason): void => {
    for (const socket of ownSockets(sessionRoom(sessionHash))) endSocket(socket, reason);
  };
  const recheckOwn = async (userId: string): Promise<void> => {
    for (const socket of ownSockets(userRoom(userId))) {
      const user = await services.auth
        .userForSession(String(socket.data.session))
        .catch(() => undefined);
      if (socket.disconnected) continue;
      if (!user) {
        endSocket(socket, "invalid");
        continue;
      }
      socket.data.user = user;
      for (const [room, permission] of ROLE_ROOMS) {
        if (can(user.role, permission)) void socket.join(room);
        else void socket.leave(room);
      }
    }
  };
  if (opts.cluster) {
    peers.on("user:recheck", (userId) => {
      if (typeof userId === "string") void recheckOwn(userId);
    });
    peers.on("session:end", (sessionHash, reason) => {
      if (typeof sessionHash === "string" && (reason === "logout" || reason === "invalid"))
        endOwnSession(sessionHash, reason);
    });
  }

  // A password change renews this browser's session secret (services/auth.ts): its sockets on
  // this process follow it, so the recheck below keeps them. (With several web processes, a
  // socket on another one is disconnected and its page logs in again.)
  services.auth.renewals.on("renewed", (old: string, renewed: string) => {
    const [from, to] = [sessionRoom(hashSecret(old)), sessionRoom(hashSecret(renewed))];
    for (const socket of ownSockets(from)) {
      socket.data.session = renewed;
      void socket.leave(from);
      void socket.join(to);
    }
  });
  services.auth.sessions.on("ended", (session, reason) => {
    const sessionHash = hashSecret(session);
    endOwnSession(sessionHash, reason);
    if (opts.cluster) peers.serverSideEmit("session:end", sessionHash, reason);
  });
  services.audit.entries.on("entry", (entry: AuditView) => {
    ns.to(AUDIT_ROOM).emit("audit", entry);
    // Every change to a user is audited with the user as its target: their open pages get the
    // new role at once, and a removed user's or an ended session's page is disconnected.
    if (USER_CHANGES.has(entry.action)) {
      void recheckOwn(entry.target);
      if (opts.cluster) peers.serverSideEmit("user:recheck", entry.target);
    }
    if (entry.action === "user.remove")
      ns.to(TOKENS_ROOM).emit("token", { kind: "user-removed", userId: entry.target });
  });

  ns.on("connection", (socket: BrowserSocket) => {
    const user = socket.data.user as AuthUser; // who connected; their role may change later
    const actor = { userId: user.id, ip: clientAddress(socket.request) };
    const streams = new Map<string, StreamEntry>();
    void socket.join([FLEET_ROOM, userRoom(user.id)]);
    if (typeof socket.data.session === "string")
      void socket.join(sessionRoom(hashSecret(socket.data.session)));
    for (const [room, permission] of ROLE_ROOMS)
      if (can(user.role, permission)) void socket.join(room);
    socket.use(socketGate(() => (socket.data.user as AuthUser).role));

    /** Parses a browser's payload; a bad one is answered (when it asks) and dropped. */
    const parse = <T>(schema: z.ZodType<T>, raw: unknown, ack?: Ack<never>): T | undefined => {
      const r = schema.safeParse(raw);
      if (r.success) return r.data;
      if (typeof ack === "function") ack({ ok: false, error: describeZodError(r.error) });
      return undefined;
    };
    const handlers = (sid: string) => ({
      data: (data: Uint8Array) => socket.emit("stream:data", { sid, data }),
      end: (e: { exitCode?: number; error?: string }) => {
        streams.delete(sid);
        socket.emit("stream:end", { sid, ...e });
      },
    });
    const fail = (ack: Ack<never>) => (err: unknown) =>
      ack({ ok: false, error: toAppError(err).message });

    socket.on("stats:watch", (raw) => {
      const i = parse(watchStatsInput, raw);
      if (!i) return;
      void socket.join(statsRoom(i.id));
      const last = services.hub.stats.get(i.id);
      if (last) socket.emit("stats", last);
    });
    socket.on("stats:unwatch", (raw) => {
      const i = parse(watchStatsInput, raw);
      if (i) void socket.leave(statsRoom(i.id));
    });
    socket.on("hostStats:watch", (raw) => {
      const i = parse(watchHostStatsInput, raw);
      if (!i) return;
      void socket.join(hostStatsRoom(i.hostId));
      // the last two minutes at once: a graph or sparkline does not start empty
      const samples = services.hostStats.recent(i.hostId);
      if (samples.length) socket.emit("host:stats", { hostId: i.hostId, samples });
    });
    socket.on("hostStats:unwatch", (raw) => {
      const i = parse(watchHostStatsInput, raw);
      if (i) void socket.leave(hostStatsRoom(i.hostId));
    });

    /**
     * Opens a stream under the browser's own name for it (so the browser listens before the
     * first byte). A name in use is refused; a stream that opens after the socket left is
     * closed at once, so nothing follows logs or keeps a shell for nobody.
     */
    const openAs = (sid: string, ack: Ack, open: () => Promise<StreamEntry>): void => {
      if (streams.has(sid)) return ack({ ok: false, error: `stream ${sid} is already open` });
      let cancelled = false;
      streams.set(sid, { close: () => (cancelled = true) });
      open().then(
        (entry) => {
          if (cancelled || socket.disconnected) {
            entry.close();
            return ack({ ok: false, error: "closed before it opened" });
          }
          // A short stream may already be over (its end was sent): nothing to keep then.
          if (streams.has(sid)) streams.set(sid, entry);
          ack({ ok: true });
        },
        (err: unknown) => {
          streams.delete(sid);
          ack({ ok: false, error: toAppError(err).message });
        },
      );
    };

    socket.on("logs:open", (raw, ack) => {
      const i = parse(openLogsInput, raw, ack);
      if (!i) return;
      openAs(i.sid, ack, async () => ({
        close: await services.containers.logs(
          i.id,
          { tail: i.tail, follow: true, timestamps: i.timestamps ?? false },
          handlers(i.sid),
        ),
      }));
    });

    socket.on("exec:open", (raw, ack) => {
      const i = parse(openExecInput, raw, ack);
      if (!i) return;
      openAs(i.sid, ack, async () => {
        const terminal = await terminals.open(i.id, i, handlers(i.sid), actor);
        return { close: terminal.close, terminal };
      });
    });
    socket.on("stream:input", (raw) => {
      const i = parse(streamInputInput, raw);
      if (i) streams.get(i.sid)?.terminal?.input(Buffer.from(i.data, "utf8"));
    });
    socket.on("stream:resize", (raw) => {
      const i = parse(streamResizeInput, raw);
      if (i) streams.get(i.sid)?.terminal?.resize(i.cols, i.rows);
    });
    socket.on("stream:ping", (raw) => {
      const i = parse(streamCloseInput, raw);
      if (i) socket.emit("stream:pong", { sid: i.sid, alive: streams.has(i.sid) });
    });
    socket.on("stream:close", (raw) => {
      const i = parse(streamCloseInput, raw);
      if (!i) return;
      streams.get(i.sid)?.close();
      streams.delete(i.sid);
    });

    socket.on("image:pull", (raw, ack) => {
      const i = parse(pullInput, raw, ack);
      if (!i) return;
      services.images
        .pull(i, actor, (layer) => socket.emit("pull:progress", { ref: i.ref, layer }))
        .then((r) => ack({ ok: true, id: r.id }), fail(ack));
    });

    socket.on("disconnect", () => {
      for (const s of streams.values()) s.close();
      streams.clear();
    });
  });
}
