import { VolumesPage } from "../../../src/client/VolumesPage.tsx";

export const metadata = { title: "Volumes · Corral" };

export default async function Page({ searchParams }: { searchParams: Promise<{ host?: string }> }) {
  const { host } = await searchParams;
  return <VolumesPage key={host ?? "all"} {...(host ? { hostId: host } : {})} />;
}
