// The services, wired once per server process; REST, tRPC and socket.io all call these.
import type { Db } from "../db.ts";
import { AgentHub } from "../sockets/agent-hub.ts";
import { AuditService } from "./audit.ts";
import { AuthService } from "./auth.ts";
import { ContainerService } from "./containers.ts";
import { HostAdminService } from "./host-admin.ts";
import type { HostStatsService } from "./host-stats.ts";
import { HostService } from "./hosts.ts";
import { ImageService } from "./images.ts";
import { JoinTokenService } from "./join-tokens.ts";
import { MetricsService } from "./metrics.ts";

export interface Services {
  db: Db;
  auth: AuthService;
  hosts: HostService;
  hostAdmin: HostAdminService;
  hostStats: HostStatsService;
  joinTokens: JoinTokenService;
  containers: ContainerService;
  images: ImageService;
  audit: AuditService;
  metrics: MetricsService;
  hub: AgentHub;
}

export function createServices(db: Db, log?: (line: string) => void): Services {
  const audit = new AuditService(db);
  const hosts = new HostService(db);
  const hub = new AgentHub(hosts, log);
  return {
    db,
    auth: new AuthService(db, audit),
    hosts,
    hostAdmin: new HostAdminService(hosts, hub, audit),
    hostStats: hub.hostStats,
    joinTokens: new JoinTokenService(db, audit),
    containers: new ContainerService(db, hub, audit),
    images: new ImageService(db, hub, audit),
    audit,
    metrics: new MetricsService(db, hub),
    hub,
  };
}
