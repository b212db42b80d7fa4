import { can } from "../../../../src/access.ts";
import { Denied } from "../../../../src/client/can.tsx";
import { CreateContainer } from "../../../../src/client/CreateContainer.tsx";
import { currentUser } from "../../../_server/session.ts";

export const metadata = { title: "New container · Corral" };

export default async function Page({ searchParams }: { searchParams: Promise<{ host?: string }> }) {
  const { host } = await searchParams;
  const user = await currentUser();
  if (!user || !can(user.role, "containers.write"))
    return <Denied permission="containers.write" what="Creating containers" />;
  return <CreateContainer {...(host ? { hostId: host } : {})} />;
}
