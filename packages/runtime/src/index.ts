// @corral/runtime's library entry: what other programs (the agent) use to drive a host's
// corral-rtd. They talk to the daemon through its typed client, never re-implement the runtime;
// exec runs in the caller's process (as `corral-rt exec` does), through the same helper.
export { ApiError, RuntimeClient } from "./client/client.js";
export { cgroupParent, DEFAULT_ROOT, runtimePaths, type RuntimePaths } from "./paths.js";
export type { ContainerEvent } from "./daemon/containers.js";
export type { CreateRequestInput, MountRequest, RestartPolicy } from "./container/config.js";
export type { CgroupStats } from "./cgroups/types.js";
export type { ContainerStats } from "./daemon/stats.js";
export { detectCgroups } from "./cgroups/index.js";
export type { ImageSummary } from "./image/store.js";
export type { PullProgress, PullResult } from "./image/registry/pull.js";
export { execInContainer, type ExecExit, type PipedExec, type TtyExec } from "./exec/index.js";
export {
  containerExecOptions,
  type ContainerView,
  type ExecRequest,
} from "./exec/container-exec.js";
