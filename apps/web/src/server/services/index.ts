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
import { NoticeService } from "./notices.ts";
import { StatsHistoryService } from "./stats-history.ts";
import { WebhookService } from "./webhooks.ts";

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
  statsHistory: StatsHistoryService;
  notices: NoticeService;
  webhooks: WebhookService;
  hub: AgentHub;
  users: UserService;
  tokens: ApiTokenService;
  setup: SetupService;
}

export function createServices(db: Db, log?: (line: string) => void): Services {
  const audit = new AuditService(db);
  const hosts = new HostService(db, audit);
  const hub = new AgentHub(hosts, log);
  const tokens = new ApiTokenService(db, audit);
  const auth = new AuthService(db, audit, undefined, tokens);
  const statsHistory = new StatsHistoryService(db, log);
  hub.changes.on("stats", (_hostId, samples) => statsHistory.recordContainerSamples(samples));
  hub.hostStats.changes.on("sample", (hostId, h) =>
    statsHistory.recordSample("host", hostId, {
      timeMs: Date.parse(h.time),
      cpuPercent: h.cpuPercent,
      memoryBytes: h.memoryUsedBytes,
    }),
  );
  const webhooks = new WebhookService(db, audit, log);
  const notices = new NoticeService(db, webhooks, log);
  notices.attach(hub);
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
    statsHistory,
    notices,
    webhooks,
    hub,
    users: new UserService(db, audit),
    tokens,
    setup: new SetupService(db, auth, audit),
  };
}
