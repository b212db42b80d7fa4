import assert from "node:assert/strict";
import { test } from "node:test";
import { databaseProvider, databaseUrl } from "./config.ts";

test("DATABASE_URL: file: is SQLite, postgresql:// and postgres:// PostgreSQL", () => {
  assert.equal(databaseProvider("file:/var/lib/corral/web/corral.db"), "sqlite");
  assert.equal(databaseProvider("postgresql://corral:pw@db:5432/corral"), "postgresql");
  assert.equal(databaseProvider("postgres://db/corral?sslmode=require"), "postgresql");
  assert.equal(
    databaseUrl({ ...process.env, DATABASE_URL: "", CORRAL_DATA: "/d" }),
    "file:/d/corral.db",
  );
});

test("any other DATABASE_URL is refused in one line naming what works", () => {
  assert.throws(
    () => databaseUrl({ ...process.env, DATABASE_URL: "mysql://db/corral" }),
    /^Error: DATABASE_URL mysql: is not supported: use file:PATH \(SQLite\) or postgresql:\/\//,
  );
});
