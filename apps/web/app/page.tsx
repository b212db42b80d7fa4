// The fleet at a glance, rendered on the server (the live dashboard comes next).
import { createDb } from "../src/server/db.ts";
import { HostService } from "../src/server/services/hosts.ts";

export const dynamic = "force-dynamic";

export default async function Home() {
  const db = createDb();
  try {
    const hosts = await new HostService(db).list();
    return (
      <main>
        <h1>Corral</h1>
        {hosts.length === 0 ? (
          <p>
            No hosts yet: make a join token (POST /api/v1/hosts/join-tokens) and run the command it
            prints on a host.
          </p>
        ) : (
          <table>
            <thead>
              <tr>
                <th align="left">Host</th>
                <th align="left">Status</th>
                <th align="left">Containers (running/total)</th>
                <th align="left">Last seen</th>
              </tr>
            </thead>
            <tbody>
              {hosts.map((h) => (
                <tr key={h.id}>
                  <td>{h.name}</td>
                  <td>{h.status}</td>
                  <td>
                    {h.containers.running}/{h.containers.total}
                  </td>
                  <td>{h.lastSeenAt ?? "never"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </main>
    );
  } finally {
    await db.$disconnect();
  }
}
