"use client";
// The frame of every page after login: where you are, whether updates are live, who you are.
import Link from "next/link";
import { usePathname } from "next/navigation";
import type { ReactNode } from "react";
import { RoleProvider } from "./can.tsx";
import { LiveProvider, useLive } from "./live.tsx";
import { NoticeBell } from "./NoticesPage.tsx";

const NAV = [
  { href: "/", label: "Fleet" },
  { href: "/containers", label: "Containers" },
];

function LiveIndicator() {
  const { status } = useLive();
  const text =
    status === "live" ? "live" : status === "connecting" ? "connecting…" : "reconnecting…";
  return (
    <span className="live" title="Updates are pushed by the server while this is green">
      <span className={`dot ${status === "live" ? "on" : status === "offline" ? "off" : ""}`} />
      {text}
    </span>
  );
}

export function Shell({
  email,
  role,
  children,
}: {
  email: string;
  role: string;
  children: ReactNode;
}) {
  const path = usePathname();
  const current = (href: string) =>
    (href === "/" ? path === "/" || path.startsWith("/hosts") : path.startsWith(href))
      ? "page"
      : undefined;
  return (
    <LiveProvider>
      <header className="topbar">
        <Link href="/" className="brand">
          Corral
        </Link>
        <nav className="nav">
          {NAV.map((n) => (
            <Link key={n.href} href={n.href} aria-current={current(n.href)}>
              {n.label}
            </Link>
          ))}
        </nav>
        <span className="spacer" />
        <LiveIndicator />
        <NoticeBell />
        <span className="user">
          <span title={`role: ${role}`}>{email}</span>
          <form method="post" action="/logout">
            <button type="submit" className="small">
              Log out
            </button>
          </form>
        </span>
      </header>
      <main>
        <RoleProvider role={role}>{children}</RoleProvider>
      </main>
    </LiveProvider>
  );
}
