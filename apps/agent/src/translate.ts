// The runtime daemon speaks Docker's JSON (inspect, image list); the protocol speaks the web
// app's. This module is the one place that maps one to the other.
import type {
  ContainerSpec,
  ContainerInfo,
  ImageInfo,
  NetworkInfo,
  PortBinding,
  VolumeInfo,
} from "@corral/protocol";
import { CONTAINER_STATES } from "@corral/protocol";
import type { CreateRequestInput, ImageSummary } from "@corral/runtime";

/** The fields of the daemon's `GET /v1/containers/:id` that the agent reads. */
export interface DaemonInspect {
  Id: string;
  Created: string;
  Path?: string;
  Args?: string[];
  Name: string;
  Image: string;
  RestartCount?: number;
  State: {
    Status: string;
    Pid: number;
    ExitCode: number;
    OOMKilled: boolean;
    Error?: string;
    StartedAt: string;
    FinishedAt: string;
  };
  Config: { Image: string; Labels?: Record<string, string> | null; Env?: string[] | null };
  HostConfig: {
    Memory?: number;
    NanoCpus?: number;
    RestartPolicy?: { Name: string; MaximumRetryCount: number };
  };
  NetworkSettings?: {
    Ports?: Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
  };
}

function ports(map: DaemonInspect["NetworkSettings"]): PortBinding[] {
  const out: PortBinding[] = [];
  for (const [key, bindings] of Object.entries(map?.Ports ?? {})) {
    const [port, proto] = key.split("/");
    const protocol = proto === "udp" || proto === "sctp" ? proto : "tcp";
    for (const b of bindings ?? []) {
      out.push({
        hostIp: b.HostIp,
        hostPort: Number(b.HostPort) || 0,
        containerPort: Number(port),
        protocol,
      });
    }
  }
  return out;
}

export function containerInfo(c: DaemonInspect): ContainerInfo {
  const status = (CONTAINER_STATES as readonly string[]).includes(c.State.Status)
    ? (c.State.Status as ContainerInfo["state"])
    : "dead";
  const policy = c.HostConfig.RestartPolicy;
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ""),
    image: c.Config.Image,
    imageId: c.Image,
    command: [c.Path ?? "", ...(c.Args ?? [])].filter((a, i) => i > 0 || a !== ""),
    state: status,
    pid: c.State.Pid > 0 ? c.State.Pid : 0,
    exitCode: c.State.ExitCode,
    oomKilled: c.State.OOMKilled,
    error: c.State.Error ?? "",
    restartCount: c.RestartCount ?? 0,
    restartPolicy:
      policy && policy.Name === "on-failure" && policy.MaximumRetryCount
        ? `on-failure:${policy.MaximumRetryCount}`
        : (policy?.Name ?? "no"),
    created: c.Created,
    startedAt: c.State.StartedAt,
    finishedAt: c.State.FinishedAt,
    labels: c.Config.Labels ?? {},
    ports: ports(c.NetworkSettings),
    memoryLimitBytes: c.HostConfig.Memory ?? 0,
    cpus: (c.HostConfig.NanoCpus ?? 0) / 1e9,
    env: c.Config.Env ?? [],
  };
}

export function imageInfo(i: ImageSummary): ImageInfo {
  return {
    id: i.id,
    repoTags: i.repoTags,
    repoDigests: i.repoDigests,
    created: i.created,
    size: i.size,
  };
}

/** A web app's container spec as the runtime's create request (`corral-rt run`'s JSON). */
export function createRequest(spec: ContainerSpec): CreateRequestInput {
  return {
    image: spec.image,
    ...(spec.name ? { name: spec.name } : {}),
    ...(spec.cmd ? { cmd: spec.cmd } : {}),
    env: spec.env ?? [],
    publish: (spec.ports ?? []).map((p) => ({
      hostIp: p.hostIp ?? "",
      hostPort: p.hostPort ?? 0,
      containerPort: p.containerPort,
      protocol: p.protocol ?? "tcp",
    })),
    mounts: (spec.volumes ?? []).map((v) =>
      v.source.startsWith("/")
        ? { type: "bind" as const, source: v.source, target: v.target, readOnly: !!v.readOnly }
        : { type: "volume" as const, source: v.source, target: v.target, readOnly: !!v.readOnly },
    ),
    ...(spec.memoryBytes ? { memoryBytes: spec.memoryBytes } : {}),
    ...(spec.cpus ? { cpus: spec.cpus } : {}),
    ...(spec.restartPolicy
      ? {
          restartPolicy: {
            name: spec.restartPolicy.name,
            maximumRetryCount: spec.restartPolicy.maximumRetryCount ?? 0,
          },
        }
      : {}),
    ...(spec.network ? { network: spec.network } : {}),
    labels: spec.labels ?? {},
  };
}

/** The daemon's `GET /v1/networks` rows (Docker's network inspect). */
export interface DaemonNetwork {
  Id: string;
  Name: string;
  Driver: string;
  IPAM: { Config: Array<{ Subnet?: string; Gateway?: string }> };
  Containers: Record<string, unknown>;
}

export function networkInfo(n: DaemonNetwork): NetworkInfo {
  const ipam = n.IPAM.Config[0];
  return {
    id: n.Id,
    name: n.Name,
    driver: n.Driver,
    subnet: ipam?.Subnet ?? "",
    gateway: ipam?.Gateway ?? "",
    containers: Object.keys(n.Containers),
  };
}

/** The daemon's volume JSON (Docker's volume inspect). */
export interface DaemonVolume {
  Name: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string> | null;
}

export function volumeInfo(v: DaemonVolume, usedBy: string[] = []): VolumeInfo {
  return {
    name: v.Name,
    mountpoint: v.Mountpoint,
    created: v.CreatedAt,
    labels: v.Labels ?? {},
    usedBy,
  };
}

/** The daemon's `GET /v1/containers?all=1` rows (Docker's `ps --format json`), the part read. */
export interface DaemonPsRow {
  Names: string;
  /** volume names and bind sources, comma-separated */
  Mounts: string;
}

/** Names of the containers that mount volume `name`. */
export function volumeUsers(name: string, rows: DaemonPsRow[]): string[] {
  return rows.filter((r) => r.Mounts.split(",").includes(name)).map((r) => r.Names);
}
