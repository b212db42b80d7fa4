// What every corral-rt command shares: the daemon client, the exit-code error, small helpers.
import { RuntimeClient } from "../client/client.js";

export const client = new RuntimeClient();
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
export const enc = encodeURIComponent;

/** A failure with the exit code the CLI should end with (125 for the runtime's own, as Docker). */
export class ExitError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  await client.ensureDaemon();
  return client.call<T>(method, path, body);
}

/**
 * The start of `run --rm` found its container gone: corral-rtd restarted between the create and
 * the start, and removed it as it removes every --rm container that is not running. Said as
 * that, not as the bare "No such container" of an id the user never typed.
 */
export function removedBeforeStart(err: unknown, id: string): unknown {
  return err instanceof Error && err.message === `No such container: ${id}`
    ? new ExitError(
        `container ${id.slice(0, 12)} was removed when corral-rtd restarted before starting it (--rm): nothing ran; run it again`,
        125,
      )
    : err;
}
