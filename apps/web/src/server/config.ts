// The web server's environment, read in one place (README: "npm start").
import { join } from "node:path";

/** Database, secrets and the local agent's state. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CORRAL_DATA || "/var/lib/corral/web";
}

export type DatabaseProvider = "sqlite" | "postgresql";

/** `file:` (SQLite through libsql, the default, under CORRAL_DATA) or `postgresql://`. */
export function databaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const url = env.DATABASE_URL || `file:${join(dataDir(env), "corral.db")}`;
  databaseProvider(url);
  return url;
}

/** Which database a URL names; anything else is refused in one line. */
export function databaseProvider(url: string): DatabaseProvider {
  if (url.startsWith("file:")) return "sqlite";
  if (/^postgres(ql)?:\/\//.test(url)) return "postgresql";
  throw new Error(
    `DATABASE_URL ${url.split(":")[0]}: is not supported: use file:PATH (SQLite) or postgresql://USER:PASSWORD@HOST:PORT/DB`,
  );
}

export function port(env: NodeJS.ProcessEnv = process.env): number {
  const p = Number(env.PORT || 3000);
  if (!Number.isInteger(p) || p < 0 || p > 65535)
    throw new Error(`PORT must be 0-65535, got ${env.PORT}`);
  return p;
}

/**
 * CORRAL_REDIS_URL (`redis://` or `rediss://`): several web processes serve one fleet through
 * socket.io's Redis adapter. Unset: one process, nothing shared.
 */
export function redisUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = env.CORRAL_REDIS_URL;
  if (!url) return undefined;
  if (!/^rediss?:\/\/[^/]/.test(url)) {
    throw new Error(
      `CORRAL_REDIS_URL must be redis://HOST:PORT (or rediss:// for TLS), got ${url.split(":")[0]}:`,
    );
  }
  return url;
}
