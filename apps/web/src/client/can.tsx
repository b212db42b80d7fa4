"use client";
// The signed-in user's role for the pages: controls a role may not use are not shown. The
// server refuses them anyway (src/server/permissions.ts); this only keeps the page honest.
import { createContext, useContext, type ReactNode } from "react";
import { can, PERMISSIONS, type Permission } from "../access.ts";

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

/** What a page shows to a role that may not use it (the server refuses it anyway). */
export function Denied({ permission, what }: { permission: Permission; what: string }) {
  const role = useRole();
  return (
    <div className="panel state" role="alert">
      <strong>
        {what} is for {PERMISSIONS[permission]}s
      </strong>
      Your role is {role}. Ask an admin if you need it.
    </div>
  );
}
