// `npm run db:migration -- <name>`: after a change to prisma/schema.prisma, writes the
// migration of each provider that lags the schema: prisma/migrations/<ts>_<name>/ (SQLite)
// and prisma/postgres/migrations/<ts>_<name>/ (PostgreSQL), after re-deriving
// prisma/postgres/schema.prisma. `--check` writes nothing and fails when one would be written.
//
// What a provider's migrations build is read from a real database, not from a copy of an old
// schema: they are applied to a scratch one (a temp SQLite file; a private PostgreSQL cluster,
// test/fixtures/postgres.ts), introspected with `prisma db pull`, and `prisma migrate diff`
// gives the SQL from there to the schema. (`migrate diff --from-migrations` needs a shadow
// database URL, which Prisma refuses next to a driver adapter.) So migrations merged from
// several branches are caught up in one run, whatever each branch did.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { DatabaseProvider } from "../src/server/config.ts";
import { LAYOUT, derivePostgresSchema } from "../src/db/schemas.ts";
import { startPostgres } from "../test/fixtures/postgres.ts";

const WEB_DIR = fileURLToPath(new URL("..", import.meta.url));
const PRISMA = join(WEB_DIR, "../../node_modules/.bin/prisma");
const EMPTY = "-- This is an empty migration.";

function prisma(args: string[], databaseUrl: string): string {
  const r = spawnSync(PRISMA, args, {
    cwd: WEB_DIR,
    env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
    encoding: "utf8",
  });
  if (r.status !== 0)
    throw new Error(`prisma ${args[0]} ${args[1]} failed: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Writes prisma/postgres/schema.prisma from prisma/schema.prisma; true when it changed. */
export function derivePostgres(): boolean {
  const path = join(WEB_DIR, LAYOUT.postgresql.schema);
  const want = derivePostgresSchema(readFileSync(join(WEB_DIR, LAYOUT.sqlite.schema), "utf8"));
  let have = "";
  try {
    have = readFileSync(path, "utf8");
  } catch {
    // first run
  }
  if (have === want) return false;
  writeFileSync(path, want);
  return true;
}

function migrationDirs(provider: DatabaseProvider): string[] {
  const dir = join(WEB_DIR, LAYOUT[provider].migrations);
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/**
 * The SQL that brings a database built by `provider`'s committed migrations to the schema,
 * or "" when they already match. `url` is an empty scratch database of that provider.
 */
export function pendingSql(provider: DatabaseProvider, url: string): string {
  const schema = LAYOUT[provider].schema;
  let from = ["--from-empty"];
  const scratch = mkdtempSync(join(tmpdir(), "corral-db-migration-"));
  try {
    if (migrationDirs(provider).length > 0) {
      prisma(["migrate", "deploy"], url);
      const stub = join(scratch, "pull.prisma");
      const placeholder = provider === "sqlite" ? "file:./unused.db" : "postgresql://localhost/x";
      writeFileSync(
        stub,
        `datasource db {\n  provider = "${provider}"\n  url = "${placeholder}"\n}\n`,
      );
      const pulled = prisma(["db", "pull", "--print", "--schema", stub], url);
      const built = join(scratch, "built.prisma");
      writeFileSync(built, pulled.slice(pulled.indexOf("datasource db")));
      from = ["--from-schema-datamodel", built];
    }
    const sql = prisma(
      ["migrate", "diff", ...from, "--to-schema-datamodel", schema, "--script"],
      url,
    );
    return sql.trim() === EMPTY || sql.trim() === "" ? "" : sql;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** yyyymmddhhmmss, after every existing migration of both providers (merged ones may be ahead). */
function nextTimestamp(): string {
  const now = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
  const last = [...migrationDirs("sqlite"), ...migrationDirs("postgresql")]
    .map((d) => d.slice(0, 14))
    .sort()
    .at(-1);
  if (!last || now > last) return now;
  // One second after the newest: 14 digits fit a JS number exactly.
  const t = last.replace(/^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)$/, "$1-$2-$3T$4:$5:$6Z");
  return new Date(Date.parse(t) + 1000).toISOString().replace(/\D/g, "").slice(0, 14);
}

async function main(argv: string[]): Promise<number> {
  const check = argv.includes("--check");
  const name = argv.find((a) => !a.startsWith("--"));
  if (!check && (!name || !/^[a-z0-9_]+$/.test(name))) {
    console.error("usage: npm run db:migration -- <name> (a-z, 0-9, _), or -- --check");
    return 2;
  }
  if (derivePostgres()) {
    console.log(`${LAYOUT.postgresql.schema}: derived again from ${LAYOUT.sqlite.schema}`);
  }
  const scratch = mkdtempSync(join(tmpdir(), "corral-db-migration-sqlite-"));
  const pg = await startPostgres("db-migration");
  let behind = 0;
  try {
    const stamp = check ? "" : nextTimestamp();
    for (const provider of ["sqlite", "postgresql"] as const) {
      const url = provider === "sqlite" ? `file:${join(scratch, "scratch.db")}` : pg.url;
      const sql = pendingSql(provider, url);
      if (!sql) {
        console.log(`${provider}: the migrations match the schema`);
        continue;
      }
      behind++;
      if (check) {
        console.error(`${provider}: the migrations lag the schema by:\n${sql}`);
        continue;
      }
      const dir = join(WEB_DIR, LAYOUT[provider].migrations, `${stamp}_${name}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "migration.sql"), sql);
      console.log(
        `${provider}: wrote ${relative(join(WEB_DIR, "../.."), join(dir, "migration.sql"))}`,
      );
    }
  } finally {
    pg.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  if (check && behind > 0) {
    console.error("run: npm run db:migration -- <name>");
    return 1;
  }
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(`db:migration: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  });
}
