// Pulling from OCI distribution registries into the image store.
export {
  RegistryClient,
  isInsecureRegistry,
  parseChallenges,
  registryBaseUrl,
  type Credentials,
  type RegistryClientOptions,
} from "./client.js";
export {
  DEFAULT_MAX_MANIFEST_BYTES,
  DEFAULT_PULL_CONCURRENCY,
  pullImage,
  type PullOptions,
  type PullProgress,
  type PullResult,
} from "./pull.js";
export { UnauthorizedError } from "./client.js";
export { CredentialStore, DOCKER_HUB_AUTH_KEY, registryOfServer } from "./credentials.js";
export { pullWithMirrors, type MirrorPullOptions } from "./mirrors.js";
export { pushImage, type PushOptions, type PushProgress, type PushResult } from "./push.js";
