import { EventsPage } from "../../../src/client/EventsPage.tsx";

export const metadata = { title: "Events · Corral" };

export default async function Page({
  searchParams,
}: {
  searchParams: Promise<{ host?: string; container?: string; type?: string }>;
}) {
  const { host, container, type } = await searchParams;
  return (
    <EventsPage
      {...(host ? { hostId: host } : {})}
      {...(container ? { containerId: container } : {})}
      {...(type ? { type } : {})}
    />
  );
}
