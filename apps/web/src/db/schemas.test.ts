import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { LAYOUT, derivePostgresSchema } from "./schemas.ts";

const read = (path: string) =>
  readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), "utf8");

test("prisma/postgres/schema.prisma is derived from prisma/schema.prisma (no drift)", () => {
  assert.ok(
    read(LAYOUT.postgresql.schema) === derivePostgresSchema(read(LAYOUT.sqlite.schema)),
    "prisma/schema.prisma changed without its PostgreSQL side: run npm run db:migration -- <name>",
  );
});

test("the derived schema differs only in provider, url and client output", () => {
  const sqlite = read(LAYOUT.sqlite.schema);
  const pg = derivePostgresSchema(sqlite);
  assert.match(pg, /^\s*provider\s*=\s*"postgresql"/m);
  assert.match(pg, /generated\/prisma-postgres"/);
  assert.doesNotMatch(pg, /"sqlite"|"file:/);
  const models = (s: string) => s.slice(s.indexOf("\nmodel "));
  assert.equal(models(pg), models(sqlite));
});

test("a schema without the expected datasource or output says what it lacks", () => {
  assert.throws(
    () => derivePostgresSchema('generator client {\n  output = "x"\n}\n'),
    /expected one datasource `provider = "sqlite"`, found 0/,
  );
  const sqlite = read(LAYOUT.sqlite.schema);
  assert.throws(
    () => derivePostgresSchema(sqlite.replace("src/generated/prisma", "elsewhere")),
    /expected one generator `output/,
  );
});
