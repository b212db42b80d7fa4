// What a list page's server render reads for its first screen (the client's cache starts from
// it instead of asking once its scripts have run), with the same permission as the query.
// Only for small lists: the containers page's 1,000 containers made its HTML 0.75 MB and its
// domInteractive 1.0 s instead of 0.5 s (bench:web, bench/results/web.md), so it asks.
import { can } from "../../src/access.ts";
import { HostService, type HostView } from "../../src/server/services/hosts.ts";
import { currentUser, pageDb } from "./session.ts";

/** The fleet page's hosts (undefined: the page asks as before). */
export async function hostsSeed(): Promise<HostView[] | undefined> {
  const user = await currentUser();
  if (!user || !can(user.role, "read")) return undefined;
  return new HostService(pageDb()).list().catch(() => undefined);
}
