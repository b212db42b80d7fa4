// Who may do what, in one table: every REST route, tRPC procedure and browser socket event
// names one of these permissions, and this is the only place that compares roles. It has no
// server imports, so the pages read the same table to hide what a role may not use.

/** Ordered: each role may do everything the roles before it may. */
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** Action -> the least role allowed to do it. */
export const PERMISSIONS = {
  /** see hosts, containers, images, logs, stats */
  read: "viewer",
  /** create, start, stop, remove containers */
  "containers.write": "operator",
  /** pull, remove and prune images */
  "images.write": "operator",
  /** create and remove networks */
  "networks.write": "operator",
  /** create, remove and prune volumes */
  "volumes.write": "operator",
  /** open a terminal in a container */
  "terminal.open": "operator",
  /** one's own password and API tokens */
  "account.manage": "viewer",
  /** create, list, change the role of and remove users */
  "users.manage": "admin",
  /** API tokens of other users */
  "tokens.manage": "admin",
  /** read the audit log */
  "audit.read": "admin",
  /** add (join tokens) and remove hosts */
  "hosts.manage": "admin",
  /** configure the alert webhooks and see their deliveries */
  "webhooks.manage": "admin",
} as const satisfies Record<string, Role>;
export type Permission = keyof typeof PERMISSIONS;

/** An unknown role (a hand-edited row) may do nothing. */
export function can(role: string, permission: Permission): boolean {
  const rank = ROLES.indexOf(role as Role);
  return rank >= 0 && rank >= ROLES.indexOf(PERMISSIONS[permission]);
}

export function denial(role: string, permission: Permission): string {
  return `your role (${role}) may not ${permission}: it needs ${PERMISSIONS[permission]} or above; ask an admin`;
}
