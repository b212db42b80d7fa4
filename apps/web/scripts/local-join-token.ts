// `npm start` joins the local agent to its own server without a login: it makes a join token
// straight in the database (same service as POST /api/v1/hosts/join-tokens) and prints it.
import { createDb } from "../src/server/db.ts";
import { HostService } from "../src/server/services/hosts.ts";

const serverUrl = process.argv[2];
if (!serverUrl) {
  console.error("usage: local-join-token.ts SERVER_URL");
  process.exit(2);
}
const db = createDb();
try {
  const t = await new HostService(db).createJoinToken(serverUrl, null);
  console.log(t.token);
} finally {
  await db.$disconnect();
}
