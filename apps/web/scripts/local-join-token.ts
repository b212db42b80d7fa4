// `npm start` joins the local agent to its own server without a login: it makes a join token
// straight in the database (same service as POST /api/v1/hosts/join-tokens) and prints it.
import { createDb } from "../src/server/db.ts";
import { AuditService } from "../src/server/services/audit.ts";
import { JoinTokenService } from "../src/server/services/join-tokens.ts";

const serverUrl = process.argv[2];
if (!serverUrl) {
  console.error("usage: local-join-token.ts SERVER_URL");
  process.exit(2);
}
const db = createDb();
try {
  const tokens = new JoinTokenService(db, new AuditService(db));
  const t = await tokens.create(serverUrl, { userId: null, ip: "local" });
  console.log(t.token);
} finally {
  await db.$disconnect();
}
