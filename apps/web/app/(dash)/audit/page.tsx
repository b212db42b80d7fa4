import { AuditPage } from "../../../src/client/AuditPage.tsx";

export const metadata = { title: "Audit log · Corral" };

export default function Page() {
  return <AuditPage />;
}
