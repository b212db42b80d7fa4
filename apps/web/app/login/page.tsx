// The login page; a browser that already has a session goes straight to the fleet.
import { redirect } from "next/navigation";
import { LoginForm } from "../../src/client/LoginForm.tsx";
import { formError, localPath } from "../../src/login-params.ts";
import { currentUser, pageDb } from "../_server/session.ts";

export const dynamic = "force-dynamic";
export const metadata = { title: "Log in · Corral" };

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<{ next?: string; error?: string }>;
}) {
  const { next, error } = await searchParams;
  // Only a path on this site: never an open redirect to another origin.
  const target = localPath(next);
  if (await currentUser()) redirect(target);
  // No user yet: the first admin is made on the setup page (with the server's setup token).
  const setupOpen = (await pageDb().user.count()) === 0;
  // ?error=: the one-line error of a login form posted without JavaScript (server/login-forms.ts)
  return <LoginForm next={target} setupOpen={setupOpen} failed={formError(error)} />;
}
