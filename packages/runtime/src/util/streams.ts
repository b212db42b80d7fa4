// Small stream helpers: backpressure that also ends when the other side goes away.
import type { Writable } from "node:stream";

/**
 * Resolves once `stream` takes writes again: on `drain`, or when it is closed or failed (then
 * nothing more will be written, and a waiter must not hang; `events.once(s, "drain")` would).
 */
export function whenWritable(stream: Writable): Promise<void> {
  if (stream.destroyed || stream.writableEnded || !stream.writableNeedDrain)
    return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off("drain", done);
      stream.off("close", done);
      stream.off("error", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
    stream.on("error", done);
  });
}
