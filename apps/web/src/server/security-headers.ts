// Security headers on every response: pages, REST, tRPC and socket.io's own HTTP answers.
// CSP: Next.js inlines its boot scripts and xterm/uPlot set inline styles, hence 'unsafe-inline'
// (nonces would need every page rendered per request); no frames, no plugins, no other origins.
import type { ServerResponse } from "node:http";
import type { Server as SocketServer } from "socket.io";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": [
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; "),
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

export function setSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
}

/** socket.io answers its polling requests itself, before the app's request handler. */
export function socketSecurityHeaders(io: SocketServer): void {
  const add = (headers: Record<string, string>) => Object.assign(headers, SECURITY_HEADERS);
  io.engine.on("initial_headers", add);
  io.engine.on("headers", add);
}
