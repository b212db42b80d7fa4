// What the daemon does with an error nobody expected. One daemon serves every container on the
// host, so one bad request must never end it: request-scoped errors answer that request (or
// close that socket) where they happen; whatever still escapes is logged here with its stack,
// and the daemon keeps serving. Containers do not depend on the daemon, but every client does.

/** One line in rtd.log (the daemon's stderr), with the time. */
export function daemonLog(message: string): void {
  process.stderr.write(`${new Date().toISOString()} corral-rtd: ${message}\n`);
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
}

/** An unexpected error in `what` (a request, a socket), logged with its stack. */
export function logUnexpected(what: string, err: unknown): void {
  daemonLog(`unexpected error in ${what}: ${describe(err)}`);
}

/** Marks what reached the process level: a test asserts that no request ever gets there. */
export const ESCAPED = "escaped to the process level (still serving)";

/**
 * The process-level policy: log, keep serving. Node's default (exit on an uncaught exception or
 * an unhandled rejection) would take every client down for one client's error.
 */
export function keepServingOnUnexpectedErrors(): void {
  process.on("uncaughtException", (err) => daemonLog(`${ESCAPED}: ${describe(err)}`));
  process.on("unhandledRejection", (reason) => daemonLog(`${ESCAPED}: ${describe(reason)}`));
}
