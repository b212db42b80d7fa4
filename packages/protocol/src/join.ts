// Joining: an agent trades a one-time join token for a per-host credential (REST, once), then
// authenticates every socket.io connection with that credential.
import { z } from "zod";
import { hostFactsSchema } from "./state.js";

export { AGENT_NAMESPACE, BROWSER_NAMESPACE, JOIN_PATH } from "./names.js";

export const joinRequestSchema = z.object({
  token: z.string().min(1, "a join token is required").max(256),
  name: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, "a host name may contain [a-zA-Z0-9][a-zA-Z0-9_.-] only")
    .max(128),
  facts: hostFactsSchema,
});
export type JoinRequest = z.infer<typeof joinRequestSchema>;

export const joinResponseSchema = z.object({
  hostId: z.string().min(1).max(64),
  credential: z.string().min(32).max(256),
});
export type JoinResponse = z.infer<typeof joinResponseSchema>;

/** socket.io handshake `auth` of an agent. */
export const agentAuthSchema = z.object({
  hostId: z.string().min(1).max(64),
  credential: z.string().min(32).max(256),
  agentVersion: z.string().max(64),
});
export type AgentAuth = z.infer<typeof agentAuthSchema>;

/** The handshake error messages an agent acts on: a revoked host stops retrying. */
export const AUTH_ERRORS = {
  revoked: "host revoked: join it again with a new token",
  unknown: "unknown host credential",
} as const;
