import assert from "node:assert/strict";
import { test } from "node:test";
import { MASK, looksSecret, maskDetail, maskEnv } from "./secrets.ts";

test("secret-looking names and values are recognised, ordinary ones are not", () => {
  for (const name of [
    "DB_PASSWORD",
    "API_KEY",
    "GITHUB_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "SENTRY_DSN",
  ])
    assert.ok(looksSecret(name), name);
  for (const name of ["PATH", "HOME", "PORT", "NODE_ENV", "LANG"])
    assert.ok(!looksSecret(name), name);
  assert.ok(looksSecret("DATABASE_URL", "postgres://app:hunter2@db:5432/app"));
  assert.ok(!looksSecret("UPSTREAM", "http://api:8080/v1"));
  assert.ok(looksSecret("X", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"));
});

test("a viewer's env hides every value; the audit's only the secret ones", () => {
  const env = ["PATH=/usr/bin", "DB_PASSWORD=hunter2", "EMPTY="];
  assert.deepEqual(
    maskEnv(env, "all").map((e) => [e.name, e.value]),
    [
      ["PATH", MASK],
      ["DB_PASSWORD", MASK],
      ["EMPTY", MASK],
    ],
  );
  assert.deepEqual(
    maskEnv(env, "secrets").map((e) => e.value),
    ["/usr/bin", MASK, ""],
  );
  assert.deepEqual(
    maskEnv(env, "none").map((e) => e.value),
    ["/usr/bin", "hunter2", ""],
  );
});

test("audit details lose their secrets at any depth", () => {
  const d = maskDetail({
    email: "a@example.com",
    password: "hunter2hunter2",
    spec: { env: ["PORT=80", "API_KEY=abc"], image: "busybox" },
    token: "cat_xyz",
  });
  assert.deepEqual(d, {
    email: "a@example.com",
    password: MASK,
    spec: { env: ["PORT=80", `API_KEY=${MASK}`], image: "busybox" },
    token: MASK,
  });
});

test("audit details keep a time as its ISO string, not as an empty object", () => {
  const expiresAt = new Date("2026-12-04T10:00:00.000Z");
  assert.deepEqual(JSON.parse(JSON.stringify(maskDetail({ expiresAt }))), {
    expiresAt: "2026-12-04T10:00:00.000Z",
  });
});
