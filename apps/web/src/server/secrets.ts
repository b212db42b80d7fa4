// What looks like a secret, and how it is shown when it must not be: env entries of containers
// (to viewers, and in the audit log) and fields of audit details (passwords, tokens).

export const MASK = "••••••";

/** Names that carry secrets by convention (DB_PASSWORD, API_KEY, GITHUB_TOKEN, AWS_SECRET_...). */
const SECRET_NAME =
  /pass(word|wd|phrase)?|secret|token|api[-_]?key|private[-_]?key|credential|auth|session|cookie|signature|salt|^pw$|_pw$|dsn|connection[-_]?string/i;
/** Values that carry secrets whatever their name: a URL with a password, a PEM key, a JWT. */
const SECRET_VALUE =
  /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^@\s]+@|-----BEGIN [A-Z ]*PRIVATE KEY-----|^eyJ[\w-]+\.[\w-]+\.[\w-]+$/i;

export function looksSecret(name: string, value = ""): boolean {
  return SECRET_NAME.test(name) || SECRET_VALUE.test(value);
}

export interface EnvEntry {
  name: string;
  /** MASK when hidden */
  value: string;
  masked: boolean;
}

/**
 * `KEY=value` entries as name/value pairs. `all`: every value hidden (a viewer's view);
 * otherwise only those that look secret are (the audit log's).
 */
export function maskEnv(env: readonly string[], mode: "all" | "secrets" | "none"): EnvEntry[] {
  return env.map((entry) => {
    const eq = entry.indexOf("=");
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const value = eq < 0 ? "" : entry.slice(eq + 1);
    const hide = mode === "all" || (mode === "secrets" && looksSecret(name, value));
    return { name, value: hide ? MASK : value, masked: hide };
  });
}

/**
 * An audit detail with its secrets masked, at any depth: fields named like secrets, values
 * that look like secrets, and `env` arrays of KEY=value entries.
 */
export function maskDetail(detail: unknown, key = ""): unknown {
  if (Array.isArray(detail)) {
    if (key === "env" && detail.every((e) => typeof e === "string")) {
      return maskEnv(detail as string[], "secrets").map((e) => `${e.name}=${e.value}`);
    }
    return detail.map((d) => maskDetail(d));
  }
  // A Date has no own entries: kept as its ISO time, not as {} (a join token's expiresAt).
  if (detail instanceof Date) return detail.toISOString();
  if (detail && typeof detail === "object") {
    return Object.fromEntries(
      Object.entries(detail).map(([k, v]) => [
        k,
        typeof v === "string" && looksSecret(k, v) ? MASK : maskDetail(v, k),
      ]),
    );
  }
  if (typeof detail === "string" && looksSecret("", detail)) return MASK;
  return detail;
}
