// The names both sides agree on that need no schema: a browser bundle imports them from
// "@corral/protocol/names" and so does not carry zod and every message schema (about 110 KB of
// script on each dashboard page for one string).
export const JOIN_PATH = "/api/v1/agents/join";
/** The socket.io namespace agents connect to. */
export const AGENT_NAMESPACE = "/agent";
/** The socket.io namespace browsers connect to (session cookie). */
export const BROWSER_NAMESPACE = "/browser";
