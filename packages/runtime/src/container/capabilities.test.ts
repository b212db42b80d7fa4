import { test } from "node:test";
import assert from "node:assert/strict";
import { containerCapabilities, normalizeCapability } from "./capabilities.js";
import { DEFAULT_CAPABILITIES } from "./defaults.js";

test("capability names as Docker takes them", () => {
  assert.equal(normalizeCapability("sys_admin"), "CAP_SYS_ADMIN");
  assert.equal(normalizeCapability("CAP_NET_ADMIN"), "CAP_NET_ADMIN");
  assert.equal(normalizeCapability("all"), "ALL");
  assert.throws(() => normalizeCapability("cap_fly"), /^Error: unknown capability: "CAP_FLY"$/);
});

test("--cap-add and --cap-drop follow Docker's rules", () => {
  assert.deepEqual(containerCapabilities(), [...DEFAULT_CAPABILITIES]);
  const admin = containerCapabilities(["CAP_SYS_ADMIN"], ["CAP_MKNOD"]);
  assert.ok(admin.includes("CAP_SYS_ADMIN") && !admin.includes("CAP_MKNOD"));
  assert.equal(admin.length, DEFAULT_CAPABILITIES.length);
  assert.deepEqual(containerCapabilities(["CAP_CHOWN"], ["ALL"]), ["CAP_CHOWN"]);
  assert.deepEqual(containerCapabilities([], ["ALL"]), []);
  assert.equal(containerCapabilities(["ALL"], ["CAP_SYS_ADMIN"]).length, 40);
  // Added and dropped: added, as in Docker.
  assert.ok(containerCapabilities(["CAP_KILL"], ["CAP_KILL"]).includes("CAP_KILL"));
});
