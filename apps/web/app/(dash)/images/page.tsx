import { ImagesPage } from "../../../src/client/ImagesPage.tsx";

export const metadata = { title: "Images · Corral" };

export default async function Page({ searchParams }: { searchParams: Promise<{ host?: string }> }) {
  const { host } = await searchParams;
  return <ImagesPage key={host ?? "all"} {...(host ? { hostId: host } : {})} />;
}
