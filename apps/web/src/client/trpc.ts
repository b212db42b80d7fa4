// The browser's tRPC client (typed by the server's router) and what its errors mean to a page.
import { createTRPCClient, httpBatchLink, TRPCClientError } from "@trpc/client";
import { CSRF_HEADER } from "../csrf-header.ts";
import type { AppRouter } from "../server/trpc/root.ts";

export const trpc = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: "/api/trpc", headers: { [CSRF_HEADER]: "1" } })],
});

/** The reason to show: the server's (often the host's own) message. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A session that ended (expired, logged out elsewhere) sends the user to the login page. */
export function isUnauthorized(err: unknown): boolean {
  return err instanceof TRPCClientError && err.data?.code === "UNAUTHORIZED";
}
