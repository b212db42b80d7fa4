import { HostPage } from "../../../../src/client/HostPage.tsx";

export const metadata = { title: "Host · Corral" };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <HostPage id={id} />;
}
