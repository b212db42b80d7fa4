// The login page; a browser that already has a session goes straight to the fleet.
import { redirect } from "next/navigation";
import { LoginForm } from "../../src/client/LoginForm.tsx";
import { currentUser, pageDb } from "../_server/session.ts";

export const dynamic = "force-dynamic";
export const metadata = { title: "Log in · Corral" };

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<{ next?: string }>;
}) {
  const { next } = await searchParams;
  // Only a path on this site: never an open redirect to another origin.
  const target = next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
  if (await currentUser()) redirect(target);
  // No user yet: the first admin is made on the setup page (with the server's setup token).
  const setupOpen = (await pageDb().user.count()) === 0;
  return <LoginForm next={target} setupOpen={setupOpen} />;
}
