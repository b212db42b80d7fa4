import type { ReactNode } from "react";
import "./globals.css";

export const metadata = { title: "Corral", description: "Your containers, every host, live" };
export const viewport = { width: "device-width", initialScale: 1 };
// Rendered per request: the CSP nonce (src/server/security-headers.ts) is new on every response.
export const dynamic = "force-dynamic";

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
