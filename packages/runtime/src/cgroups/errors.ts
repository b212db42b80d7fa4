/** A cgroup operation that failed: the message names the step, the path and what to do. */
export class CgroupError extends Error {
  constructor(
    message: string,
    readonly path?: string,
    /** The errno name of the underlying failure (`EBUSY`, `ENOENT`, ...), if any. */
    readonly code?: string,
  ) {
    super(message);
    this.name = "CgroupError";
  }
}

/** A limit that cannot be applied as requested (bad value or missing controller). */
export class CgroupLimitError extends CgroupError {
  constructor(message: string) {
    super(message);
    this.name = "CgroupLimitError";
  }
}

export function errnoCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string") {
    return err.code;
  }
  return undefined;
}
