import { FleetPage } from "../../src/client/FleetPage.tsx";
import { hostsSeed } from "../_server/seed.ts";

export const metadata = { title: "Fleet · Corral" };

export default async function Page() {
  // The hosts come with the page: every row is in the HTML.
  const seed = await hostsSeed();
  return <FleetPage {...(seed ? { seed } : {})} />;
}
