// Docker-shaped views of a container: `inspect` JSON and `ps` rows, so that scripts written
// for `docker inspect`/`docker ps --format json` read ours.
import { securityOptList } from "./security-opts.js";
import type { ContainerRecord } from "./record.js";
import { formatBinding, type PortRequest } from "../network/port-spec.js";

type HostPorts = { HostIp: string; HostPort: string }[];

function portBindings(requests: readonly PortRequest[]): Record<string, HostPorts> {
  const out: Record<string, HostPorts> = {};
  for (const p of requests) {
    const key = `${p.containerPort}/${p.protocol}`;
    (out[key] ??= []).push({ HostIp: p.hostIp, HostPort: p.hostPort ? String(p.hostPort) : "" });
  }
  return out;
}

/** Docker's NetworkSettings: every network the container joins (addresses while it runs), ports. */
function networkSettings(r: ContainerRecord): Record<string, unknown> {
  const running = r.state.networks ?? [];
  const primary = running.find((a) => a.ifName === "eth0");
  const ports: Record<string, HostPorts | null> = {};
  for (const e of r.exposedPorts) ports[e] = null;
  for (const b of r.state.ports ?? []) {
    const key = `${b.containerPort}/${b.protocol}`;
    (ports[key] ??= []).push({ HostIp: b.hostIp || "0.0.0.0", HostPort: String(b.hostPort) });
  }
  return {
    IPAddress: primary?.ipAddress ?? "",
    IPPrefixLen: primary?.prefixLen ?? 0,
    Gateway: primary?.gateway ?? "",
    MacAddress: primary?.macAddress ?? "",
    Networks: Object.fromEntries(
      r.endpoints.map((e) => {
        const a = running.find((x) => x.network === e.network);
        return [
          e.network,
          {
            Aliases: e.aliases.length ? e.aliases : null,
            NetworkID: a?.networkId ?? "",
            IPAddress: a?.ipAddress ?? "",
            IPPrefixLen: a?.prefixLen ?? 0,
            Gateway: a?.gateway ?? "",
            MacAddress: a?.macAddress ?? "",
          },
        ];
      }),
    ),
    Ports: ports,
  };
}

export function inspectContainer(r: ContainerRecord, dir: string): Record<string, unknown> {
  const s = r.state;
  const req = r.request;
  return {
    Id: r.id,
    Created: r.created,
    Path: r.process.args[0],
    Args: r.process.args.slice(1),
    State: {
      Status: s.status,
      Running: s.status === "running" || s.status === "paused",
      Paused: s.status === "paused",
      Restarting: s.status === "restarting",
      OOMKilled: s.oomKilled,
      Dead: s.status === "dead",
      Pid: s.pid,
      // Not Docker's: with Pid it names the init for good (exec refuses a reused pid).
      PidStartTime: s.pidStartTime,
      ExitCode: s.exitCode,
      Error: s.error,
      Warnings: s.warnings ?? [],
      StartedAt: s.startedAt,
      FinishedAt: s.finishedAt,
    },
    Image: `sha256:${r.imageId}`,
    LogPath: `${dir}/console.log`,
    Name: `/${r.name}`,
    RestartCount: s.restartCount,
    Driver: "overlay",
    Config: {
      Hostname: r.process.hostname,
      User: r.process.user,
      Env: r.process.env,
      Cmd: req.cmd ?? null,
      Entrypoint: req.entrypoint ?? null,
      Image: r.imageRef,
      WorkingDir: r.process.cwd,
      Tty: req.tty,
      OpenStdin: req.openStdin,
      Labels: req.labels,
      StopSignal: r.process.stopSignal,
      StopTimeout: req.stopTimeoutSeconds ?? null,
    },
    HostConfig: {
      Memory: req.memoryBytes ?? 0,
      MemorySwap: req.memorySwapBytes ?? (req.memoryBytes ? req.memoryBytes * 2 : 0),
      NanoCpus: req.cpus ? Math.round(req.cpus * 1e9) : 0,
      CpuShares: req.cpuShares ?? 0,
      PidsLimit: req.pidsLimit ?? null,
      ReadonlyRootfs: req.readOnly,
      SecurityOpt: securityOptList(req),
      Init: req.init,
      AutoRemove: req.autoRemove,
      RestartPolicy: {
        Name: req.restartPolicy.name,
        MaximumRetryCount: req.restartPolicy.maximumRetryCount,
      },
      LogConfig: {
        Type: "corral-file",
        Config: req.logMaxSizeBytes ? { "max-size": String(req.logMaxSizeBytes) } : {},
      },
      Binds: r.mounts
        .filter((m) => m.type !== "tmpfs")
        .map((m) => `${m.name ?? m.source}:${m.target}${m.readOnly ? ":ro" : ""}`),
      CapAdd: req.capAdd.length > 0 ? req.capAdd : null,
      CapDrop: req.capDrop.length > 0 ? req.capDrop : null,
      Devices: req.devices.map((d) => ({
        PathOnHost: d.pathOnHost,
        PathInContainer: d.pathInContainer,
        CgroupPermissions: d.cgroupPermissions,
      })),
      Tmpfs: Object.fromEntries(
        r.mounts.filter((m) => m.type === "tmpfs").map((m) => [m.target, m.options ?? ""]),
      ),
      NetworkMode: req.network === "bridge" ? "default" : req.network,
      PortBindings: portBindings(req.publish),
      PublishAllPorts: req.publishAll,
    },
    Mounts: r.mounts
      .filter((m) => m.type !== "tmpfs")
      .map((m) => ({
        Type: m.type,
        ...(m.name ? { Name: m.name } : {}),
        Source: m.source,
        Destination: m.target,
        RW: !m.readOnly,
      })),
    NetworkSettings: networkSettings(r),
  };
}

function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return s <= 1 ? "Less than a second" : `${s} seconds`;
  if (s < 3600) return `${Math.round(s / 60)} minutes`;
  if (s < 86400) return `${Math.round(s / 3600)} hours`;
  return `${Math.round(s / 86400)} days`;
}

export function statusText(r: ContainerRecord): string {
  const s = r.state;
  switch (s.status) {
    case "running":
      return `Up ${ago(s.startedAt)}`;
    case "paused":
      return `Up ${ago(s.startedAt)} (Paused)`;
    case "restarting":
      return `Restarting (${s.exitCode}) ${ago(s.finishedAt)} ago`;
    case "exited":
      return s.startedAt.startsWith("0001")
        ? "Created"
        : `Exited (${s.exitCode}) ${ago(s.finishedAt)} ago`;
    case "created":
      return "Created";
    case "dead":
      return "Dead";
  }
}

/** A row of `ps --format json`, with Docker's keys. */
export function psRow(r: ContainerRecord): Record<string, string> {
  return {
    ID: r.id.slice(0, 12),
    Image: r.imageRef,
    Command: JSON.stringify(r.process.args.join(" ")),
    CreatedAt: r.created,
    RunningFor: `${ago(r.created)} ago`,
    Status: statusText(r),
    State: r.state.status,
    Names: r.name,
    Ports: (r.state.ports ?? []).map(formatBinding).join(", "),
    Networks: r.endpoints.map((e) => e.network).join(",") || r.request.network,
    Mounts: r.mounts.map((m) => m.name ?? m.source).join(","),
    Labels: Object.entries(r.request.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(","),
  };
}
