// First run: the setup page, open only while no user exists (then it sends you to log in).
import { redirect } from "next/navigation";
import { SetupForm } from "../../src/client/SetupForm.tsx";
import { pageDb } from "../_server/session.ts";

export const dynamic = "force-dynamic";
export const metadata = { title: "Set up · Corral" };

export default async function SetupPage() {
  if ((await pageDb().user.count()) > 0) redirect("/login");
  return <SetupForm />;
}
