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
