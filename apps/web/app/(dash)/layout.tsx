// Every page after login: the session is checked here, on the server, before anything renders.
import { redirect } from "next/navigation";
import type { ReactNode } from "react";
import { Shell } from "../../src/client/Shell.tsx";
import { currentUser } from "../_server/session.ts";

export const dynamic = "force-dynamic";

export default async function DashLayout({ children }: { children: ReactNode }) {
  const user = await currentUser();
  if (!user) redirect("/login");
  return (
    <Shell email={user.email} role={user.role}>
      {children}
    </Shell>
  );
}
