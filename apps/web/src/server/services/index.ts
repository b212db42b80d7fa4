// The services, wired once per server process; REST, tRPC and socket.io all call these.
import type { Db } from "../db.ts";
import { AgentHub } from "../sockets/agent-hub.ts";
import { ApiTokenService } from "./api-tokens.ts";
import { AuditService } from "./audit.ts";
import { AuthService } from "./auth.ts";
import { ContainerService } from "./containers.ts";
import { EventService } from "./events.ts";
import { HostAdminService } from "./host-admin.ts";
import type { HostStatsService } from "./host-stats.ts";
import { HostService } from "./hosts.ts";
import { ImageService } from "./images.ts";
import { JoinTokenService } from "./join-tokens.ts";
import { MetricsService } from "./metrics.ts";
import { SetupService } from "./setup.ts";
import { UserService } from "./users.ts";
import { NetworkService } from "./networks.ts";
import { VolumeService } from "./volumes.ts";

export interface Services {
  db: Db;
  auth: AuthService;
  hosts: HostService;
  hostAdmin: HostAdminService;
  hostStats: HostStatsService;
  joinTokens: JoinTokenService;
  containers: ContainerService;
  images: ImageService;
  networks: NetworkService;
  volumes: VolumeService;
  events: EventService;
  audit: AuditService;
  metrics: MetricsService;
  hub: AgentHub;
  users: UserService;
  tokens: ApiTokenService;
  setup: SetupService;
}

export function createServices(db: Db, log?: (line: string) => void): Services {
  const audit = new AuditService(db);
  const hosts = new HostService(db, audit);
  const hub = new AgentHub(hosts, log);
  const auth = new AuthService(db, audit);
  return {
    db,
    auth,
    hosts,
    hostAdmin: new HostAdminService(hosts, hub, audit),
    hostStats: hub.hostStats,
    joinTokens: new JoinTokenService(db, audit),
    containers: new ContainerService(db, hub, audit),
    images: new ImageService(db, hub, audit),
    networks: new NetworkService(db, hub, audit),
    volumes: new VolumeService(db, hub, audit),
    events: new EventService(db),
    audit,
    metrics: new MetricsService(db, hub),
    hub,
    users: new UserService(db, audit),
    tokens: new ApiTokenService(db, audit),
    setup: new SetupService(db, auth, audit),
  };
}
