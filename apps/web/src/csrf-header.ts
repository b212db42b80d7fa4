// The header every dashboard request that changes something carries. A cross-site page cannot
// send a custom header without a CORS preflight (which this server never grants), so a
// cookie-authenticated change without it is refused (server/csrf.ts). Shared by the server's
// check and the browser's fetches.
export const CSRF_HEADER = "x-corral-csrf";
