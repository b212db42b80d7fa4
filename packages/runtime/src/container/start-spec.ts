// What a start asks of the kernel for a container record: the spec its init turns itself into
// the container with, and the limits of its cgroup. Built afresh at every start from the record.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { CgroupLimits } from "../cgroups/types.js";
import { UserError } from "../util/errors.js";
import { containerCapabilities } from "./capabilities.js";
import type { CreateRequest } from "./config.js";
import { DEFAULT_RLIMITS } from "./defaults.js";
import { deviceMount } from "./devices.js";
import { initMounts } from "./init-mounts.js";
import type { InitSpec } from "./init-spec.js";
import { ZERO_TIME, type ContainerRecord } from "./record.js";
import { seccompProgramFor } from "./security-opts.js";

const TINI = "/usr/bin/tini-static";

/** `dir`: the container's directory; `logPath`: where its output goes. */
export function initSpecFor(r: ContainerRecord, dir: string, logPath: string): InitSpec {
  const missing = r.layerDirs.find((d) => !existsSync(d));
  if (missing) {
    throw new UserError(
      `the image layers of container ${r.name} are gone (${missing}): its image was removed with rmi -f; remove the container`,
      409,
    );
  }
  const caps = containerCapabilities(r.request.capAdd, r.request.capDrop);
  return {
    containerId: r.id,
    rootfs: {
      lowerDirs: [join(dir, "init-layer"), ...r.layerDirs],
      upperDir: join(dir, "upper"),
      workDir: join(dir, "work"),
      mountPoint: join(dir, "rootfs"),
      readOnly: r.request.readOnly,
    },
    etcFiles: [
      { source: join(dir, "hosts"), target: "/etc/hosts" },
      { source: join(dir, "hostname"), target: "/etc/hostname" },
      { source: join(dir, "resolv.conf"), target: "/etc/resolv.conf" },
    ],
    mounts: initMounts(r.mounts, r.state.startedAt === ZERO_TIME).concat(
      r.request.devices.map((d) => deviceMount(d)),
    ),
    hostname: r.process.hostname,
    loopback: r.request.network !== "host",
    process: {
      args: r.process.args,
      env: r.process.env,
      cwd: r.process.cwd,
      user: r.process.user,
      capabilities: caps,
      noNewPrivileges: r.request.noNewPrivileges,
      seccomp: seccompProgramFor(r.request, caps)?.toString("base64"),
      rlimits: DEFAULT_RLIMITS.map((l) => ({ ...l })),
      logPath,
      stdio: r.request.tty ? "tty" : r.request.openStdin ? "pipe" : "null",
      ...(r.request.init ? { initBinary: TINI } : {}),
    },
  };
}

export function cgroupLimitsFor(req: CreateRequest): CgroupLimits {
  const limits: CgroupLimits = {};
  if (req.memoryBytes !== undefined) {
    limits.memoryBytes = req.memoryBytes;
    // Docker: without --memory-swap, swap may be as large as memory (total = 2x).
    limits.memorySwapBytes = req.memorySwapBytes ?? req.memoryBytes * 2;
  } else if (req.memorySwapBytes !== undefined && req.memorySwapBytes !== -1) {
    throw new UserError(
      "You should always set the Memory limit when using Memoryswap limit, see usage.",
    );
  }
  if (req.cpus !== undefined) {
    limits.cpuPeriodMicros = 100000;
    limits.cpuQuotaMicros = Math.round(req.cpus * 100000);
  }
  if (req.cpuShares !== undefined) limits.cpuShares = req.cpuShares;
  if (req.pidsLimit !== undefined) limits.pidsLimit = req.pidsLimit <= 0 ? -1 : req.pidsLimit;
  return limits;
}
