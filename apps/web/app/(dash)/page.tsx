import { FleetPage } from "../../src/client/FleetPage.tsx";

export const metadata = { title: "Fleet · Corral" };

export default function Page() {
  return <FleetPage />;
}
