import { headers } from "next/headers";
import { ContainersPage } from "../../../src/client/ContainersPage.tsx";
import { preloadQueries } from "../../../src/client/preload.ts";

export const metadata = { title: "Containers · Corral" };

export default async function Page({ searchParams }: { searchParams: Promise<{ host?: string }> }) {
  const { host } = await searchParams;
  // The list's requests start with the HTML, not after hydration (src/client/preload.ts).
  preloadQueries((await headers()).get("sec-fetch-dest") === "document", [
    { path: "containers.list", ...(host ? { input: { hostId: host } } : {}) },
    { path: "hosts.list" },
  ]);
  return <ContainersPage key={host ?? "all"} {...(host ? { hostId: host } : {})} />;
}
