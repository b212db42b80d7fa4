// Prisma's CLI config (generate, migrate deploy): the JS engine through the libsql adapter, so
// nothing native is downloaded. The schema and migrations live in the repository's prisma/.
import { PrismaLibSQL } from "@prisma/adapter-libsql";
import { defineConfig } from "prisma/config";
import { databaseUrl } from "./src/server/config.ts";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "../../prisma/schema.prisma",
  adapter: async () => new PrismaLibSQL({ url: databaseUrl() }),
});
