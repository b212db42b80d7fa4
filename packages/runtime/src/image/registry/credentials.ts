// Registry credentials saved by `corral-rt login`, in Docker's config.json shape so that the
// file reads (and can be copied) like ~/.docker/config.json:
//
//   {"auths": {"registry.example.com:5000": {"auth": "<base64 of user:password>"},
//              "https://index.docker.io/v1/": {"auth": "..."}}}
//
// It lives at <state root>/auth.json (/var/lib/corral/auth.json by default): the daemon does
// the pulls, so the credentials sit with its state, mode 0600 in a 0700 directory, root only.
// Like Docker's, the password is stored base64-encoded, not encrypted: the file mode is the
// protection. Every read goes to the file, so a login counts for the next pull at once.
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import { writeFileAtomicSync } from "../../util/atomic-file.js";
import { ImageError } from "../errors.js";
import { DEFAULT_REGISTRY } from "../reference.js";
import type { Credentials } from "./client.js";

/** The key Docker uses for Docker Hub in config.json. */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";
const HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

const AuthFileSchema = z.looseObject({
  auths: z.record(z.string(), z.looseObject({ auth: z.string().optional() })).optional(),
});
type AuthFile = z.infer<typeof AuthFileSchema>;

/**
 * The registry a login server names, as references spell it: `docker.io` for Docker Hub (also
 * from `https://index.docker.io/v1/`), else `host[:port]` without scheme or path.
 */
export function registryOfServer(server: string): string {
  let host = server.trim().toLowerCase();
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, "").replace(/\/.*$/, "");
  if (host === "" || !/^[a-z0-9.\-[\]:]+$/.test(host)) {
    throw new ImageError(
      "invalid",
      `invalid registry server ${JSON.stringify(server)}: use host[:port], e.g. registry.example.com:5000`,
    );
  }
  return HUB_ALIASES.has(host) ? DEFAULT_REGISTRY : host;
}

/** The config.json key for a registry. */
function keyOf(registry: string): string {
  return registry === DEFAULT_REGISTRY ? DOCKER_HUB_AUTH_KEY : registry;
}

export class CredentialStore {
  constructor(readonly path: string) {}

  /** The saved credentials for a registry (`docker.io`, `host:port`), if any. */
  get(registry: string): Credentials | undefined {
    const wanted = registryOfServer(registry);
    for (const [key, entry] of Object.entries(this.read().auths ?? {})) {
      let keyRegistry: string;
      try {
        keyRegistry = registryOfServer(key);
      } catch {
        continue;
      }
      if (keyRegistry !== wanted || entry.auth === undefined) continue;
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon <= 0) continue;
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    return undefined;
  }

  /** Saves credentials for a registry, replacing what it had. */
  set(registry: string, credentials: Credentials): void {
    const file = this.read();
    const auths = this.without(file, registry);
    auths[keyOf(registryOfServer(registry))] = {
      auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64"),
    };
    this.write({ ...file, auths });
  }

  /** Forgets a registry's credentials; false when there were none. */
  remove(registry: string): boolean {
    const file = this.read();
    const before = Object.keys(file.auths ?? {}).length;
    const auths = this.without(file, registry);
    if (Object.keys(auths).length === before) return false;
    if (Object.keys(auths).length === 0 && Object.keys(file).every((k) => k === "auths")) {
      rmSync(this.path, { force: true });
    } else {
      this.write({ ...file, auths });
    }
    return true;
  }

  private without(file: AuthFile, registry: string): NonNullable<AuthFile["auths"]> {
    const wanted = registryOfServer(registry);
    return Object.fromEntries(
      Object.entries(file.auths ?? {}).filter(([key]) => {
        try {
          return registryOfServer(key) !== wanted;
        } catch {
          return true;
        }
      }),
    );
  }

  private read(): AuthFile {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw err;
    }
    try {
      return AuthFileSchema.parse(JSON.parse(text));
    } catch {
      throw new ImageError(
        "invalid",
        `${this.path} is not a valid credentials file; fix it or remove it and log in again`,
      );
    }
  }

  private write(file: AuthFile): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    // Created 0600: a umask can only take bits away, never open the file to others.
    writeFileAtomicSync(this.path, JSON.stringify(file, null, 2) + "\n", 0o600);
  }
}
