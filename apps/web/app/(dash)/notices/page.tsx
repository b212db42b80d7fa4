import { NoticesPage } from "../../../src/client/NoticesPage.tsx";

export const metadata = { title: "Notices · Corral" };

export default function Page() {
  return <NoticesPage />;
}
