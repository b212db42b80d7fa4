// One data model, two databases. prisma/schema.prisma (SQLite) is the only file anyone edits;
// the PostgreSQL schema is derived from it, because Prisma fixes the provider per schema file
// and per generated client. Each provider has its own client and its own SQL migrations.
import type { DatabaseProvider } from "../server/config.ts";

export interface ProviderLayout {
  /** the schema file, relative to apps/web (where the prisma CLI runs) */
  schema: string;
  migrations: string;
}

export const LAYOUT: Record<DatabaseProvider, ProviderLayout> = {
  sqlite: { schema: "../../prisma/schema.prisma", migrations: "../../prisma/migrations" },
  postgresql: {
    schema: "../../prisma/postgres/schema.prisma",
    migrations: "../../prisma/postgres/migrations",
  },
};

const HEADER = `// GENERATED from ../schema.prisma by \`npm run db:migration\`: do not edit.
// The same models for PostgreSQL; its migrations are in ./migrations.
`;

/** Replaces the one line `pattern` matches, or fails naming what the schema lacks. */
function replaceOnce(text: string, pattern: RegExp, by: string, what: string): string {
  const hits = text.match(new RegExp(pattern.source, "gm"))?.length ?? 0;
  if (hits !== 1) {
    throw new Error(`prisma/schema.prisma: expected one ${what}, found ${hits}`);
  }
  return text.replace(new RegExp(pattern.source, "m"), by);
}

/** The PostgreSQL schema for the SQLite one: provider, (unused) url and client output differ. */
export function derivePostgresSchema(sqlite: string): string {
  let pg = replaceOnce(
    sqlite,
    /^(\s*provider\s*=\s*)"sqlite"/,
    '$1"postgresql"',
    'datasource `provider = "sqlite"`',
  );
  // Ignored at run time (the adapter gets DATABASE_URL), as in the SQLite schema.
  pg = replaceOnce(
    pg,
    /^(\s*url\s*=\s*)"file:[^"]*"/,
    '$1"postgresql://localhost/corral"',
    "`url`",
  );
  pg = replaceOnce(
    pg,
    /^(\s*output\s*=\s*)"\.\.\/apps\/web\/src\/generated\/prisma"/,
    '$1"../../apps/web/src/generated/prisma-postgres"',
    'generator `output = "../apps/web/src/generated/prisma"`',
  );
  return HEADER + pg;
}
