/**
 * What kind of failure an image operation met, so the daemon can map it to a status
 * (not-found -> 404, conflict -> 409, invalid/refused -> 400) without parsing messages.
 */
export type ImageErrorCode =
  /** no image, tag or blob by that name */
  | "not-found"
  /** the operation would break something in use or ambiguous (rmi of a used image) */
  | "conflict"
  /** the caller's input is malformed (bad reference, bad option) */
  | "invalid"
  /** the archive or layer is malformed or hostile and was refused */
  | "refused";

/** An image store failure whose message is one line a CLI can print as is. */
export class ImageError extends Error {
  constructor(
    readonly code: ImageErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "ImageError";
  }
}

export function notFound(what: string): ImageError {
  return new ImageError("not-found", `No such image: ${what}`);
}

/** The message of any thrown value, for wrapping with context. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
