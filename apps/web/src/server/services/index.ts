// The services, wired once per server process; REST, tRPC and socket.io all call these.
import type { Db } from "../db.ts";
import { AgentHub } from "../sockets/agent-hub.ts";
import { AuditService } from "./audit.ts";
import { AuthService } from "./auth.ts";
import { ContainerService } from "./containers.ts";
import { HostService } from "./hosts.ts";
import { ImageService } from "./images.ts";
import { MetricsService } from "./metrics.ts";
import { NoticeService } from "./notices.ts";
import { StatsHistoryService } from "./stats-history.ts";
import { WebhookService } from "./webhooks.ts";

export interface Services {
  db: Db;
  auth: AuthService;
  hosts: HostService;
  containers: ContainerService;
  images: ImageService;
  audit: AuditService;
  metrics: MetricsService;
  statsHistory: StatsHistoryService;
  notices: NoticeService;
  webhooks: WebhookService;
  hub: AgentHub;
}

export function createServices(db: Db, log?: (line: string) => void): Services {
  const audit = new AuditService(db);
  const hosts = new HostService(db);
  const hub = new AgentHub(hosts, log);
  const statsHistory = new StatsHistoryService(db, log);
  hub.changes.on("stats", (_hostId, samples) => statsHistory.recordContainerSamples(samples));
  const webhooks = new WebhookService(db, audit, log);
  const notices = new NoticeService(db, webhooks, log);
  notices.attach(hub);
  return {
    db,
    auth: new AuthService(db, audit),
    hosts,
    containers: new ContainerService(db, hub, audit),
    images: new ImageService(db, hub, audit),
    audit,
    metrics: new MetricsService(db, hub),
    statsHistory,
    notices,
    webhooks,
    hub,
  };
}
