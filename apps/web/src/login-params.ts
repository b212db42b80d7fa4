// The login and setup pages' URL parameters, shared by the pages and the form posts that log in
// without JavaScript (server/login-forms.ts).

/**
 * Where a login may send the browser afterwards (?next=): only a path on this site, never an
 * open redirect to another origin ("//evil.example" and "/\evil.example" are other origins to a
 * browser).
 */
export function localPath(next: string | null | undefined): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\")
    ? next
    : "/";
}

/** ?error= (a native form post's failure) as the page shows it: one short line of text. */
export function formError(error: string | null | undefined): string {
  return (error ?? "").replace(/\s+/g, " ").trim().slice(0, 200);
}
