import { AccountPage } from "../../../src/client/AccountPage.tsx";

export const metadata = { title: "Change password · Corral" };

export default function Page() {
  return <AccountPage />;
}
