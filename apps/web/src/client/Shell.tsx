"use client";
// The frame of every page after login: where you are, whether updates are live, who you are.
import Link from "next/link";
import { usePathname } from "next/navigation";
import type { ReactNode } from "react";
import { can, type Permission } from "../access.ts";
import { RoleProvider } from "./can.tsx";
import { LiveProvider, useLive } from "./live.tsx";
import { NoticeBell } from "./NoticesPage.tsx";

/** `permission`: shown only to roles that have it. */
const NAV: Array<{ href: string; label: string; permission?: Permission }> = [
  { href: "/", label: "Fleet" },
  { href: "/containers", label: "Containers" },
  { href: "/images", label: "Images" },
  { href: "/networks", label: "Networks" },
  { href: "/volumes", label: "Volumes" },
  { href: "/events", label: "Events" },
  { href: "/users", label: "Users", permission: "users.manage" },
  { href: "/audit", label: "Audit log", permission: "audit.read" },
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
          {NAV.filter((n) => !n.permission || can(role, n.permission)).map((n) => (
            <Link key={n.href} href={n.href} aria-current={current(n.href)}>
              {n.label}
            </Link>
          ))}
        </nav>
        <span className="spacer" />
        <LiveIndicator />
        <NoticeBell />
        {/* keyed by the path: the menu closes when a link in it is followed */}
        <details className="user-menu" key={path}>
          <summary title={`role: ${role}`}>
            {email} <span className="badge">{role}</span>
          </summary>
          <div className="user-menu-items" role="menu">
            <Link href="/account" role="menuitem">
              Change password
            </Link>
            <Link href="/tokens" role="menuitem">
              API tokens
            </Link>
            <form method="post" action="/logout">
              <button type="submit" className="small" role="menuitem">
                Log out
              </button>
            </form>
          </div>
        </details>
      </header>
      <main>
        <RoleProvider role={role}>{children}</RoleProvider>
      </main>
    </LiveProvider>
  );
}
