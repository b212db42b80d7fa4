// The Tokens page's list as pushed changes arrive (src/client/live.tsx): the rows stay in the
// server's order, newest first, and the rows that did not change keep their objects.
import type { TokenChange, TokenView } from "../server/services/api-tokens.ts";

export function applyTokenChange(list: TokenView[], c: TokenChange): TokenView[] {
  if (c.kind === "revoked")
    return list.some((t) => t.id === c.id) ? list.filter((t) => t.id !== c.id) : list;
  if (c.kind === "user-removed")
    return list.some((t) => t.userId === c.userId)
      ? list.filter((t) => t.userId !== c.userId)
      : list;
  const at = list.findIndex((t) => t.id === c.token.id);
  if (at >= 0) return list.map((t, i) => (i === at ? c.token : t));
  const before = list.findIndex((t) => t.createdAt < c.token.createdAt);
  return before < 0
    ? [...list, c.token]
    : [...list.slice(0, before), c.token, ...list.slice(before)];
}
