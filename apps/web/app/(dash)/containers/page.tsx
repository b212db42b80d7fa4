import { ContainersPage } from "../../../src/client/ContainersPage.tsx";

export const metadata = { title: "Containers · Corral" };

export default async function Page({ searchParams }: { searchParams: Promise<{ host?: string }> }) {
  const { host } = await searchParams;
  return <ContainersPage key={host ?? "all"} {...(host ? { hostId: host } : {})} />;
}
