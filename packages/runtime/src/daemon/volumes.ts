// Named and anonymous volumes: <root>/volumes/<name>/_data, described by volume.json.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { writeFileAtomicSync } from "../util/atomic-file.js";
import { UserError } from "../util/errors.js";

export interface Volume {
  name: string;
  path: string;
  created: string;
  anonymous: boolean;
  labels: Record<string, string>;
}

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export class VolumeStore {
  private readonly dir: string;
  constructor(root: string) {
    this.dir = join(root, "volumes");
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  create(name: string | undefined, anonymous = false, labels: Record<string, string> = {}): Volume {
    const volumeName = name ?? randomBytes(32).toString("hex");
    if (!VOLUME_NAME.test(volumeName)) {
      throw new UserError(
        `invalid volume name "${volumeName}": use at least 2 of [a-zA-Z0-9_.-], starting with a letter or digit`,
      );
    }
    const existing = this.find(volumeName);
    if (existing) return existing; // Docker: creating an existing volume is a no-op
    const base = join(this.dir, volumeName);
    mkdirSync(join(base, "_data"), { recursive: true, mode: 0o755 });
    const volume: Volume = {
      name: volumeName,
      path: join(base, "_data"),
      created: new Date().toISOString(),
      anonymous,
      labels,
    };
    writeFileAtomicSync(join(base, "volume.json"), JSON.stringify(volume));
    return volume;
  }

  getOrCreate(name: string): Volume {
    return this.find(name) ?? this.create(name);
  }

  find(name: string): Volume | undefined {
    const file = join(this.dir, name, "volume.json");
    if (!VOLUME_NAME.test(name) || !existsSync(file)) return undefined;
    return JSON.parse(readFileSync(file, "utf8")) as Volume;
  }

  get(name: string): Volume {
    const v = this.find(name);
    if (!v) throw new UserError(`no such volume: ${name}`, 404);
    return v;
  }

  list(): Volume[] {
    return readdirSync(this.dir)
      .map((name) => this.find(name))
      .filter((v): v is Volume => v !== undefined);
  }

  remove(name: string, inUse: (name: string) => boolean): void {
    this.get(name);
    if (inUse(name)) {
      throw new UserError(
        `remove ${name}: volume is in use: remove the containers that use it first`,
        409,
      );
    }
    rmSync(join(this.dir, name), { recursive: true, force: true });
  }
}
