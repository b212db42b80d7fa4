// Prisma's CLI config (generate, migrate deploy): the JS engine through a driver adapter, so
// nothing native is downloaded. DATABASE_URL picks the database, and with it the schema and
// migrations of its provider (src/db/schemas.ts): libsql for file:, pg for postgresql://.
import { PrismaLibSQL } from "@prisma/adapter-libsql";
import { defineConfig } from "prisma/config";
import { databaseProvider, databaseUrl } from "./src/server/config.ts";
import { migrateAdapter } from "./src/db/pg-migrate.ts";
import { LAYOUT } from "./src/db/schemas.ts";

const url = databaseUrl();
const provider = databaseProvider(url);

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: LAYOUT[provider].schema,
  migrations: { path: LAYOUT[provider].migrations },
  adapter: async () =>
    provider === "postgresql" ? migrateAdapter(url) : new PrismaLibSQL({ url }),
});
