import { constants } from "node:os";

const errnoNames = new Map<number, string>(
  Object.entries(constants.errno).map(([name, code]) => [code, name]),
);

/** A failed system call: which call, on what, and the errno's name ("mount proc at /proc: EPERM"). */
export class SyscallError extends Error {
  readonly code: string;
  constructor(
    readonly call: string,
    readonly errno: number,
    readonly subject?: string,
  ) {
    const code = errnoNames.get(errno) ?? `errno ${errno}`;
    super(subject ? `${call} ${subject}: ${code}` : `${call}: ${code}`);
    this.code = code;
    this.name = "SyscallError";
  }
}

export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}
