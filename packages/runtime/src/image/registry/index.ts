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
