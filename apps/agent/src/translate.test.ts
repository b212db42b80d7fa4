import assert from "node:assert/strict";
import { test } from "node:test";
import { volumeUsers } from "./translate.js";

test("a volume's users are the containers that mount exactly it, not a name it is part of", () => {
  const rows = [
    { Names: "db", Mounts: "data,/etc/app" },
    { Names: "cache", Mounts: "data-old" },
    { Names: "web", Mounts: "" },
    { Names: "backup", Mounts: "/srv,data" },
  ];
  assert.deepEqual(volumeUsers("data", rows), ["db", "backup"]);
  assert.deepEqual(volumeUsers("data-old", rows), ["cache"]);
  assert.deepEqual(volumeUsers("logs", rows), []);
});
