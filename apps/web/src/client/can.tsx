"use client";
// The signed-in user's role for the pages: controls a role may not use are not shown. The
// server refuses them anyway (src/server/permissions.ts); this only keeps the page honest.
import { createContext, useContext, type ReactNode } from "react";
import { can, type Permission } from "../access.ts";

const RoleContext = createContext<string>("viewer");

export function RoleProvider({ role, children }: { role: string; children: ReactNode }) {
  return <RoleContext.Provider value={role}>{children}</RoleContext.Provider>;
}

/** Whether the signed-in user may do `permission` (false outside a RoleProvider). */
export function useCan(permission: Permission): boolean {
  return can(useContext(RoleContext), permission);
}

export function useRole(): string {
  return useContext(RoleContext);
}
