// The services, wired once per server process; REST, tRPC and socket.io all call these.
import type { Db } from "../db.ts";
import { AgentHub } from "../sockets/agent-hub.ts";
import { AuditService } from "./audit.ts";
import { AuthService } from "./auth.ts";
import { ContainerService } from "./containers.ts";
import { EventService } from "./events.ts";
import { HostService } from "./hosts.ts";
import { ImageService } from "./images.ts";
import { MetricsService } from "./metrics.ts";
import { NetworkService } from "./networks.ts";
import { VolumeService } from "./volumes.ts";

export interface Services {
  db: Db;
  auth: AuthService;
  hosts: HostService;
  containers: ContainerService;
  images: ImageService;
  networks: NetworkService;
  volumes: VolumeService;
  events: EventService;
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
    containers: new ContainerService(db, hub, audit),
    images: new ImageService(db, hub, audit),
    networks: new NetworkService(db, hub, audit),
    volumes: new VolumeService(db, hub, audit),
    events: new EventService(db),
    audit,
    metrics: new MetricsService(db, hub),
    hub,
  };
}
