import { ContainersPage } from "../../../src/client/ContainersPage.tsx";
import { containersSeed } from "../../_server/seed.ts";

export const metadata = { title: "Containers · Corral" };

export default async function Page({ searchParams }: { searchParams: Promise<{ host?: string }> }) {
  const { host } = await searchParams;
  // The list comes with the page: its first screen of rows is in the HTML.
  const seed = await containersSeed(host);
  return (
    <ContainersPage
      key={host ?? "all"}
      {...(host ? { hostId: host } : {})}
      {...(seed ? { seed } : {})}
    />
  );
}
