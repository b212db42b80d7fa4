// cgroups: one CgroupManager per container, v1 or v2 by what the host mounts.
import { hostCgroupLayout } from "./detect.js";
import type { CgroupLayout, CgroupManager } from "./types.js";
import { V1CgroupManager } from "./v1.js";
import { V2CgroupManager } from "./v2.js";

/**
 * The manager for `relPath` (e.g. `corral/<containerId>`) on this host, or on `layout` (tests
 * pass explicit roots, e.g. `{ kind: "v2", root: "/sys/fs/cgroup/unified" }`).
 */
export function createCgroupManager(
  relPath: string,
  layout: CgroupLayout = hostCgroupLayout(),
): CgroupManager {
  return layout.kind === "v1"
    ? new V1CgroupManager(relPath, layout.mounts)
    : new V2CgroupManager(relPath, layout.root);
}

export { detectCgroups, hostCgroupLayout } from "./detect.js";
export { CgroupError, CgroupLimitError } from "./errors.js";
export {
  MIN_MEMORY_BYTES,
  cpusToLimits,
  sharesToWeight,
  swapMaxV2,
  validateLimits,
} from "./limits.js";
export type {
  CgroupApplyReport,
  CgroupLayout,
  CgroupLimits,
  CgroupManager,
  CgroupStats,
  CgroupStatsReader,
} from "./types.js";
export { V1CgroupManager, statsFromV1Files } from "./v1.js";
export { V2CgroupManager, restrictDevices, statsFromV2Files } from "./v2.js";
export { DEFAULT_DEVICE_RULES, deviceFilterProgram, parseDeviceRule } from "./device-filter.js";
export type { DeviceRule } from "./device-filter.js";
