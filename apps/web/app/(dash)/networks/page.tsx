import { NetworksPage } from "../../../src/client/NetworksPage.tsx";

export const metadata = { title: "Networks · Corral" };

export default async function Page({ searchParams }: { searchParams: Promise<{ host?: string }> }) {
  const { host } = await searchParams;
  return <NetworksPage key={host ?? "all"} {...(host ? { hostId: host } : {})} />;
}
