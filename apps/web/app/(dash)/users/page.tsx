import { UsersPage } from "../../../src/client/UsersPage.tsx";

export const metadata = { title: "Users · Corral" };

export default function Page() {
  return <UsersPage />;
}
