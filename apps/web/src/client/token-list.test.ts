import assert from "node:assert/strict";
import { test } from "node:test";
import type { TokenView } from "../server/services/api-tokens.ts";
import { applyTokenChange } from "./token-list.ts";

const token = (id: string, createdAt: string, userId = "u1"): TokenView => ({
  id,
  name: id,
  kind: "named",
  createdAt,
  expiresAt: null,
  lastUsedAt: null,
  userId,
  user: `${userId}@example.com`,
});
const list = [
  token("c", "2026-12-03T09:00:00.000Z"),
  token("b", "2026-12-02T09:00:00.000Z", "u2"),
  token("a", "2026-12-01T09:00:00.000Z"),
];
const ids = (l: TokenView[]) => l.map((t) => t.id);

test("a new token takes its place newest first; a used one is replaced where it is", () => {
  assert.deepEqual(
    ids(applyTokenChange(list, { kind: "put", token: token("d", "2026-12-04T00:00:00.000Z") })),
    ["d", "c", "b", "a"],
  );
  assert.deepEqual(
    ids(applyTokenChange(list, { kind: "put", token: token("m", "2026-12-01T12:00:00.000Z") })),
    ["c", "b", "m", "a"],
  );
  assert.deepEqual(
    ids(applyTokenChange(list, { kind: "put", token: token("z", "2026-11-01T00:00:00.000Z") })),
    ["c", "b", "a", "z"],
  );
  const used = {
    ...token("b", "2026-12-02T09:00:00.000Z", "u2"),
    lastUsedAt: "2026-12-03T10:00:00.000Z",
  };
  const after = applyTokenChange(list, { kind: "put", token: used });
  assert.deepEqual(ids(after), ["c", "b", "a"]);
  assert.equal(after[1], used);
  assert.equal(after[0], list[0], "the other rows keep their objects");
});

test("a revoked token and a removed user's tokens leave the list; an unknown one changes nothing", () => {
  assert.deepEqual(ids(applyTokenChange(list, { kind: "revoked", id: "c", userId: "u1" })), [
    "b",
    "a",
  ]);
  assert.deepEqual(ids(applyTokenChange(list, { kind: "user-removed", userId: "u1" })), ["b"]);
  assert.equal(applyTokenChange(list, { kind: "revoked", id: "nope", userId: "u1" }), list);
  assert.equal(applyTokenChange(list, { kind: "user-removed", userId: "u9" }), list);
});
