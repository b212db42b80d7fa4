// First run: the setup page, open only while no user exists (then it sends you to log in).
import { redirect } from "next/navigation";
import { SetupForm } from "../../src/client/SetupForm.tsx";
import { formError } from "../../src/login-params.ts";
import { pageDb } from "../_server/session.ts";

export const dynamic = "force-dynamic";
export const metadata = { title: "Set up · Corral" };

export default async function SetupPage({
  searchParams,
}: {
  searchParams: Promise<{ error?: string }>;
}) {
  if ((await pageDb().user.count()) > 0) redirect("/login");
  // ?error=: the one-line error of the form posted without JavaScript (server/login-forms.ts)
  const { error } = await searchParams;
  return <SetupForm failed={formError(error)} />;
}
