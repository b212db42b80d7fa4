import { CreateContainer } from "../../../../src/client/CreateContainer.tsx";

export const metadata = { title: "New container · Corral" };

export default async function Page({ searchParams }: { searchParams: Promise<{ host?: string }> }) {
  const { host } = await searchParams;
  return <CreateContainer {...(host ? { hostId: host } : {})} />;
}
