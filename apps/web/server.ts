// `node --import tsx server.ts`: the web app's server (scripts/start.sh runs it). Env: PORT,
// HOST, CORRAL_DATA, DATABASE_URL, CORRAL_ADMIN_EMAIL / CORRAL_ADMIN_PASSWORD,
// CORRAL_REDIS_URL (README).
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dataDir, databaseUrl, port, redisUrl } from "./src/server/config.ts";
import { startServer } from "./src/server/app.ts";

process.env.NEXT_TELEMETRY_DISABLED = "1";
mkdirSync(dataDir(), { recursive: true, mode: 0o700 });
// Startup fails in one line and exits: Next.js keeps the process alive after an uncaught
// error (a database without its tables, Redis away), which would leave a server that never
// listens and never says why.
const server = await start().catch((err: Error) => {
  console.error(`corral-web: cannot start: ${err.message}`);
  process.exit(1);
});

async function start() {
  const server = await startServer({
    port: port(),
    host: process.env.HOST || "0.0.0.0",
    dir: fileURLToPath(new URL(".", import.meta.url)),
    databaseUrl: databaseUrl(),
    redisUrl: redisUrl(),
  });
  const admin = await server.services.auth.ensureFirstAdmin(
    process.env.CORRAL_ADMIN_EMAIL,
    process.env.CORRAL_ADMIN_PASSWORD,
  );
  if (admin.created) {
    console.log(
      `corral-web: first admin ${admin.email} created from CORRAL_ADMIN_EMAIL/CORRAL_ADMIN_PASSWORD`,
    );
  }
  // No user and no password from the environment: only who reads this console can set Corral up.
  const setupToken = await server.services.setup.begin();
  if (setupToken) {
    console.log(
      `corral-web: no user yet: open ${server.url}/setup and enter the one-time setup token ${setupToken}`,
    );
  }
  return server;
}
console.log(`corral-web: listening on ${server.url}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void server.close().finally(() => process.exit(0));
  });
}
