// The daemon's access to registries: its configuration (mirrors, insecure registries, from
// runtime.json) and the credentials `login` saved, applied to every pull, push and login.
import { join } from "node:path";
import { DEFAULT_CONFIG, type RuntimeConfig } from "../config/runtime-config.js";
import { ImageError } from "../image/errors.js";
import { DEFAULT_REGISTRY, parseReference } from "../image/reference.js";
import {
  CredentialStore,
  RegistryClient,
  UnauthorizedError,
  pullWithMirrors,
  pushImage,
  registryOfServer,
  type PullOptions,
  type PullResult,
  type PushOptions,
  type PushResult,
} from "../image/registry/index.js";
import type { ImageStore } from "../image/store.js";

const LOGIN_TIMEOUT_MS = 30_000;

export class RegistryAccess {
  readonly credentials: CredentialStore;

  constructor(
    root: string,
    private config: RuntimeConfig = DEFAULT_CONFIG,
    private readonly log: (message: string) => void = () => undefined,
  ) {
    this.credentials = new CredentialStore(join(root, "auth.json"));
  }

  get current(): RuntimeConfig {
    return this.config;
  }

  /** A new configuration (SIGHUP): counts for the pulls and pushes that start after it. */
  reconfigure(config: RuntimeConfig): void {
    this.config = config;
  }

  /** A pull with the configured mirrors, insecure registries and saved credentials. */
  pull(
    store: ImageStore,
    reference: string,
    options: Omit<PullOptions, "credentials" | "insecureRegistries" | "endpoint"> = {},
  ): Promise<PullResult> {
    return pullWithMirrors(store, reference, {
      ...options,
      mirrors: this.config.registryMirrors,
      insecureRegistries: this.config.insecureRegistries,
      credentialsFor: (registry) => this.credentials.get(registry),
      onNote: (note) => this.log(`pull ${reference}: ${note}`),
      onMirrorFailure: (mirror, message) =>
        this.log(`pull ${reference}: mirror ${mirror} failed, trying the next source: ${message}`),
    });
  }

  push(
    store: ImageStore,
    reference: string,
    options: Omit<PushOptions, "credentials" | "insecureRegistries"> = {},
  ): Promise<PushResult> {
    const { registry } = parseReference(reference);
    return pushImage(store, reference, {
      ...options,
      insecureRegistries: this.config.insecureRegistries,
      credentials: this.credentials.get(registry),
    });
  }

  /**
   * `docker login`: checks the credentials against the registry (GET /v2/, answering its
   * Basic or Bearer challenge) and saves them only when it lets them in. Returns the registry.
   */
  async login(
    server: string | undefined,
    username: string,
    password: string,
    signal?: AbortSignal,
  ): Promise<string> {
    const registry = registryOfServer(server || DEFAULT_REGISTRY);
    if (username === "" || password === "") {
      throw new ImageError("invalid", "login needs a user name and a password");
    }
    // A registry that accepts the connection and never answers must not hold the CLI forever.
    const timeout = AbortSignal.timeout(LOGIN_TIMEOUT_MS);
    const client = new RegistryClient({
      registry,
      repository: "",
      credentials: { username, password },
      insecureRegistries: this.config.insecureRegistries,
      signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]),
    });
    try {
      await client.ping();
    } catch (err) {
      if (timeout.aborted) {
        throw new ImageError(
          "refused",
          `login to ${registry} failed: no answer within ${LOGIN_TIMEOUT_MS / 1000} s`,
        );
      }
      if (err instanceof UnauthorizedError) {
        throw new ImageError("refused", `login to ${registry} failed: wrong user name or password`);
      }
      throw new ImageError("refused", `login to ${registry} failed: ${(err as Error).message}`);
    }
    this.credentials.set(registry, { username, password });
    return registry;
  }

  /** `docker logout`: forgets the registry's credentials; false when there were none. */
  logout(server: string | undefined): { registry: string; removed: boolean } {
    const registry = registryOfServer(server || DEFAULT_REGISTRY);
    return { registry, removed: this.credentials.remove(registry) };
  }
}
