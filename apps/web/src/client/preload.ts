// A page's first reads started by its HTML rather than after hydration. The page's server render
// asks the browser to preload tRPC query URLs (`<link rel="preload" as="fetch">`), so those
// requests run while the scripts load and hydrate; the page's queries then read them with a
// plain GET of the same URL, which the browser answers from that preload (Chromium does:
// e2e/dashboard.test.ts checks that the containers list is requested once). The URL is tRPC's
// own for a query sent alone (GET, the input as JSON in `input`, the answer
// `{"result":{"data":…}}`); a GET query needs no CSRF header. Anything but that answer (a
// session that ended, a server error) is asked again through the tRPC client, whose error the
// page shows and the login redirect reads.
import { preload } from "react-dom";

/** tRPC's URL of one query sent alone. */
export function queryUrl(path: string, input?: object): string {
  const q = input ? `?input=${encodeURIComponent(JSON.stringify(input))}` : "";
  return `/api/trpc/${path}${q}`;
}

/**
 * For a server component: the browser starts these queries with the HTML. Only on a document
 * load (`Sec-Fetch-Dest: document`): a client-side navigation may find them cached, and an
 * unused preload is a wasted request (Next.js hides its own `RSC` header from the page).
 */
export function preloadQueries(
  documentLoad: boolean,
  queries: ReadonlyArray<{ path: string; input?: object }>,
): void {
  if (!documentLoad) return;
  for (const { path, input } of queries)
    preload(queryUrl(path, input), { as: "fetch", crossOrigin: "anonymous" });
}

/** A query's answer: the preloaded one when there is one, else `ask` (the tRPC client). */
export async function readPreloaded<T>(
  path: string,
  input: object | undefined,
  ask: () => Promise<T>,
): Promise<T> {
  try {
    const r = await fetch(queryUrl(path, input), { credentials: "same-origin" });
    if (r.ok) {
      const body = (await r.json()) as { result?: { data?: unknown } };
      if (body.result && "data" in body.result) return body.result.data as T;
    }
  } catch {
    // asked again below, where the error is tRPC's
  }
  return ask();
}
