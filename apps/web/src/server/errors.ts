// Errors a service throws on purpose, with the HTTP status REST answers and the tRPC code.
import { ZodError } from "zod";
import { describeZodError } from "@corral/protocol";

export class AppError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 429 | 500 | 502 | 504,
    message: string,
  ) {
    super(message);
  }
}

/** 429: REST answers with Retry-After. */
export class TooManyRequests extends AppError {
  constructor(
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super(429, message);
  }
}

export const badRequest = (m: string) => new AppError(400, m);
export const unauthorized = (m = "log in first: send Authorization: Bearer TOKEN") =>
  new AppError(401, m);
export const notFound = (m: string) => new AppError(404, m);
export const conflict = (m: string) => new AppError(409, m);

/** Any thrown value as an AppError (a ZodError becomes a 400 naming the field). */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) return badRequest(describeZodError(err));
  return new AppError(500, (err as Error)?.message ?? String(err));
}

const TRPC_CODES = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  429: "TOO_MANY_REQUESTS",
  500: "INTERNAL_SERVER_ERROR",
  502: "BAD_GATEWAY",
  504: "TIMEOUT",
} as const;

export function trpcCode(err: AppError): (typeof TRPC_CODES)[keyof typeof TRPC_CODES] {
  return TRPC_CODES[err.status];
}
