// Security headers on every response: pages, REST, tRPC and socket.io's own HTTP answers.
// CSP: scripts only from this origin or carrying this response's nonce (no 'unsafe-inline'):
// Next.js reads the nonce from the request's Content-Security-Policy header and puts it on its
// own inline boot scripts (every page renders per request: app/layout.tsx is dynamic). Styles
// keep 'unsafe-inline': xterm and uPlot set inline styles. No frames, plugins or other origins.
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server as SocketServer } from "socket.io";

export function contentSecurityPolicy(nonce?: string): string {
  return [
    "default-src 'self'",
    `script-src 'self'${nonce ? ` 'nonce-${nonce}'` : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** What every response carries besides its CSP. */
const OTHER_HEADERS: Readonly<Record<string, string>> = {
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

/** The headers of answers that are no page (socket.io's): no script runs, so no nonce. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": contentSecurityPolicy(),
  ...OTHER_HEADERS,
};

/** A fresh nonce per response; the request carries the same policy to Next.js's renderer. */
export function setSecurityHeaders(req: IncomingMessage, res: ServerResponse): void {
  const policy = contentSecurityPolicy(randomBytes(16).toString("base64"));
  // Overwrites whatever the client sent: only the server chooses the nonce.
  req.headers["content-security-policy"] = policy;
  delete req.headers["content-security-policy-report-only"];
  res.setHeader("content-security-policy", policy);
  for (const [name, value] of Object.entries(OTHER_HEADERS)) res.setHeader(name, value);
}

/** socket.io answers its polling requests itself, before the app's request handler. */
export function socketSecurityHeaders(io: SocketServer): void {
  const add = (headers: Record<string, string>) => Object.assign(headers, SECURITY_HEADERS);
  io.engine.on("initial_headers", add);
  io.engine.on("headers", add);
}
