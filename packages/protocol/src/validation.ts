// One way to turn a zod failure into a line that names the field, for logs, acks and HTTP 400s.
import type { z } from "zod";

/** `ports.0.containerPort: Too small: expected number to be >=1` */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid input";
  const path = issue.path.map(String).join(".");
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** Parses or throws an Error whose message names the first bad field. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`bad ${what}: ${describeZodError(r.error)}`);
  return r.data;
}
