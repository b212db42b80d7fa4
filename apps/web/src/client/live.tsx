"use client";
// The page's one socket.io connection (namespace /browser, the session cookie authenticates it)
// and what it pushes, written straight into the query cache: pages never poll.
import {
  QueryClient,
  QueryClientProvider,
  useQueryClient,
  type QueryKey,
} from "@tanstack/react-query";
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { io, type Socket } from "socket.io-client";
import { BROWSER_NAMESPACE } from "@corral/protocol/names";
import type { BrowserToServer, ServerToBrowser } from "../live/events.ts";
import { containerListRow, putRow, type ContainerRow } from "../server/services/container-row.ts";
import type { TokenChange, TokenView } from "../server/services/api-tokens.ts";
import type { SessionEndReason } from "../server/services/auth.ts";
import type { ContainerView } from "../server/services/containers.ts";
import type { HostView } from "../server/services/hosts.ts";
import { applyTokenChange } from "./token-list.ts";
import { isUnauthorized } from "./trpc.ts";

export type LiveSocket = Socket<ServerToBrowser, BrowserToServer>;
export type LiveStatus = "connecting" | "live" | "offline";

const LiveContext = createContext<{ socket: LiveSocket | null; status: LiveStatus }>({
  socket: null,
  status: "connecting",
});

export const useLive = () => useContext(LiveContext);

export const keys = {
  hosts: ["hosts"] as const,
  containers: (hostId?: string) => ["containers", hostId ?? "all"] as const,
  container: (id: string) => ["container", id] as const,
  images: (hostId?: string) => ["images", hostId ?? "all"] as const,
  networks: (hostId?: string) => ["networks", hostId ?? "all"] as const,
  volumes: (hostId?: string) => ["volumes", hostId ?? "all"] as const,
  tokens: ["tokens"] as const,
};

/**
 * A page whose lists came with its HTML (read by the server render) reads them once more when
 * the live channel is first up: what changed in between was pushed before it listened.
 */
export function useSeedRefresh(seeded: boolean, queryKeys: readonly QueryKey[]): void {
  const qc = useQueryClient();
  const { status } = useLive();
  const pending = useRef(seeded);
  const latest = useRef(queryKeys);
  latest.current = queryKeys;
  useEffect(() => {
    if (status !== "live" || !pending.current) return;
    pending.current = false;
    for (const queryKey of latest.current) void qc.invalidateQueries({ queryKey });
  }, [status, qc]);
}

let leaving = false;

/**
 * Leaves for the login page, once: the first sign that the session is over decides where to (a
 * refused request or reconnect that follows says nothing new). A logout (this tab's form or
 * another tab's) goes to the login page as the form's own redirect does; a session that is
 * no longer valid comes back here after the login (`next`).
 */
function toLogin(reason: SessionEndReason = "invalid"): void {
  if (leaving) return;
  leaving = true;
  const next = encodeURIComponent(window.location.pathname);
  window.location.assign(reason === "logout" ? "/login" : `/login?next=${next}`);
}

function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // Fresh data comes pushed; a refetch happens only after a reconnect or a resync.
        staleTime: Infinity,
        refetchOnWindowFocus: false,
        retry: (n, err) => !isUnauthorized(err) && n < 1,
      },
    },
  });
}

/** Applies pushed changes to every cached list and page they belong to. */
function LiveSync({ socket }: { socket: LiveSocket }) {
  const qc = useQueryClient();
  useEffect(() => {
    const onHost = (h: HostView) =>
      qc.setQueryData<HostView[]>(keys.hosts, (list) =>
        list
          ? list.some((x) => x.id === h.id)
            ? list.map((x) => (x.id === h.id ? h : x))
            : [...list, h]
          : list,
      );
    const onContainer = (e: { hostId: string; id: string; container: ContainerView | null }) => {
      // The push carries the full view (the container's page shows it); lists keep their rows.
      const row = e.container && containerListRow(e.container);
      for (const hostKey of ["all", e.hostId]) {
        qc.setQueryData<ContainerRow[]>(
          ["containers", hostKey],
          (list) => list && putRow(list, e.id, row),
        );
      }
      qc.setQueryData(keys.container(e.id), e.container);
    };
    const onResync = () => {
      void qc.invalidateQueries({ queryKey: ["containers"] });
      void qc.invalidateQueries({ queryKey: ["container"] });
      void qc.invalidateQueries({ queryKey: keys.hosts });
    };
    const onHostGone = ({ hostId }: { hostId: string }) => {
      qc.setQueryData<HostView[]>(keys.hosts, (list) => list?.filter((h) => h.id !== hostId));
      void qc.invalidateQueries({ queryKey: ["containers"] });
    };
    // Lists of a host's images, networks and volumes are read again when they change.
    const refetch = (kind: "images" | "networks" | "volumes") => (r: { hostId: string }) => {
      for (const hostKey of ["all", r.hostId])
        void qc.invalidateQueries({ queryKey: [kind, hostKey] });
    };
    const onImages = refetch("images");
    const onNetworks = refetch("networks");
    const onVolumes = refetch("volumes");
    const onToken = (c: TokenChange) =>
      qc.setQueryData<TokenView[]>(keys.tokens, (list) => list && applyTokenChange(list, c));
    const onReconnect = () => {
      onResync();
      for (const kind of ["images", "networks", "volumes", "events", "tokens"])
        void qc.invalidateQueries({ queryKey: [kind] });
    };
    socket.on("host", onHost);
    socket.on("host:gone", onHostGone);
    socket.on("container", onContainer);
    socket.on("resync", onResync);
    socket.on("images", onImages);
    socket.on("networks", onNetworks);
    socket.on("volumes", onVolumes);
    socket.on("token", onToken);
    // After a reconnect, whatever was pushed meanwhile is lost: read everything again.
    socket.io.on("reconnect", onReconnect);
    return () => {
      socket.off("host", onHost);
      socket.off("host:gone", onHostGone);
      socket.off("container", onContainer);
      socket.off("resync", onResync);
      socket.off("images", onImages);
      socket.off("networks", onNetworks);
      socket.off("volumes", onVolumes);
      socket.off("token", onToken);
      socket.io.off("reconnect", onReconnect);
    };
  }, [qc, socket]);
  return null;
}

export function LiveProvider({ children }: { children: ReactNode }) {
  const [queryClient] = useState(makeQueryClient);
  const [socket, setSocket] = useState<LiveSocket | null>(null);
  const [status, setStatus] = useState<LiveStatus>("connecting");

  useEffect(() => {
    const s: LiveSocket = io(BROWSER_NAMESPACE, { withCredentials: true });
    s.on("connect", () => setStatus("live"));
    // The server says why it ends this session's connection (then cuts it): log in again.
    s.on("session:ended", ({ reason }) => toLogin(reason));
    s.on("disconnect", (reason) => {
      setStatus("offline");
      if (reason === "io server disconnect") toLogin();
    });
    s.on("connect_error", (err) => {
      setStatus("offline");
      // The server refuses a connection without a valid session: log in again.
      if (/log in/.test(err.message)) toLogin();
    });
    setSocket(s);
    return () => {
      s.close();
    };
  }, []);

  useEffect(() => {
    return queryClient.getQueryCache().subscribe((e) => {
      if (e.type === "updated" && isUnauthorized(e.query.state.error)) toLogin();
    });
  }, [queryClient]);

  return (
    <QueryClientProvider client={queryClient}>
      <LiveContext.Provider value={{ socket, status }}>
        {socket && <LiveSync socket={socket} />}
        {children}
      </LiveContext.Provider>
    </QueryClientProvider>
  );
}

/** Emits with an acknowledgement, as a promise that fails with the server's reason. */
export function request<T extends object>(
  socket: LiveSocket,
  emit: (ack: (r: ({ ok: true } & T) | { ok: false; error: string }) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    if (!socket.connected) return reject(new Error("not connected to the server"));
    emit((r) => (r.ok ? resolve(r) : reject(new Error(r.error))));
  });
}
