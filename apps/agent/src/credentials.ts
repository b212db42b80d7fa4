// The per-host credential: traded once for a one-time join token, then kept in the agent's
// data dir (0600 in a 0700 dir) and used for every connection.
import { mkdirSync, readFileSync, writeFileSync, renameSync } from "node:fs";
import { join as joinPath } from "node:path";
import {
  JOIN_PATH,
  describeZodError,
  joinResponseSchema,
  type HostFacts,
  type JoinResponse,
} from "@corral/protocol";
import { z } from "zod";

const storedSchema = joinResponseSchema.extend({ server: z.string() });
export type StoredCredential = z.infer<typeof storedSchema>;

export function credentialPath(dataDir: string): string {
  return joinPath(dataDir, "credential.json");
}

export function readCredential(dataDir: string): StoredCredential | undefined {
  let text: string;
  try {
    text = readFileSync(credentialPath(dataDir), "utf8");
  } catch {
    return undefined;
  }
  const r = storedSchema.safeParse(JSON.parse(text));
  if (!r.success) {
    throw new Error(
      `${credentialPath(dataDir)} is not a credential (${describeZodError(r.error)}): remove it and join again with a new token`,
    );
  }
  return r.data;
}

function writeCredential(dataDir: string, c: StoredCredential): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tmp = credentialPath(dataDir) + ".tmp";
  writeFileSync(tmp, JSON.stringify(c) + "\n", { mode: 0o600 });
  renameSync(tmp, credentialPath(dataDir));
}

/** Exchanges the join token at the server; the credential is saved before it is returned. */
export async function joinServer(
  server: string,
  token: string,
  name: string,
  facts: HostFacts,
  dataDir: string,
): Promise<StoredCredential> {
  const res = await fetch(new URL(JOIN_PATH, server), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token, name, facts }),
  });
  const body = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) {
    throw new Error(`join refused by ${server}: ${body.error ?? res.statusText}`);
  }
  const r = joinResponseSchema.safeParse(body);
  if (!r.success) throw new Error(`bad join response: ${describeZodError(r.error)}`);
  const stored = { ...(r.data as JoinResponse), server };
  writeCredential(dataDir, stored);
  return stored;
}
