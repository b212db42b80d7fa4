import { ContainerPage } from "../../../../src/client/ContainerPage.tsx";
import { TABS, type Tab } from "../../../../src/client/tabs.ts";

export const metadata = { title: "Container · Corral" };

export default async function Page({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ tab?: string }>;
}) {
  const { id } = await params;
  const { tab } = await searchParams;
  const shown: Tab = TABS.includes(tab as Tab) ? (tab as Tab) : "overview";
  return <ContainerPage id={id} tab={shown} />;
}
