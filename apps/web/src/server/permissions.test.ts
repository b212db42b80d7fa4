import assert from "node:assert/strict";
import { test } from "node:test";
import { can, PERMISSIONS, ROLES, type Permission } from "./permissions.ts";

test("each role may do what the roles below it may, and an unknown role nothing", () => {
  const allowed = (role: string) =>
    (Object.keys(PERMISSIONS) as Permission[]).filter((p) => can(role, p)).sort();
  assert.deepEqual(allowed("viewer"), ["account.manage", "read"]);
  assert.deepEqual(allowed("operator"), [
    "account.manage",
    "containers.write",
    "images.write",
    "networks.write",
    "read",
    "terminal.open",
    "volumes.write",
  ]);
  assert.deepEqual(allowed("admin"), Object.keys(PERMISSIONS).sort());
  assert.deepEqual(allowed("root"), []);
  assert.deepEqual(allowed(""), []);
  assert.deepEqual(ROLES, ["viewer", "operator", "admin"]);
});
