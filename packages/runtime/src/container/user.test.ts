import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveUser } from "./user.js";

const passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:App:/home/app:/bin/sh\n";
const group = "root:x:0:\nwheel:x:10:app\napp:x:1000:\naudio:x:29:app,other\n";

test("no user means root with the image's home", () => {
  assert.deepEqual(resolveUser("", passwd, group), {
    uid: 0,
    gid: 0,
    additionalGids: [],
    home: "/root",
  });
});

test("a name resolves uid, primary gid and supplementary groups", () => {
  assert.deepEqual(resolveUser("app", passwd, group), {
    uid: 1000,
    gid: 1000,
    additionalGids: [10, 29],
    home: "/home/app",
  });
});

test("uid:gid and name:group forms", () => {
  assert.equal(resolveUser("1000:29", passwd, group).gid, 29);
  assert.equal(resolveUser("app:wheel", passwd, group).gid, 10);
  const unknown = resolveUser("4242", passwd, group);
  assert.deepEqual([unknown.uid, unknown.gid, unknown.home], [4242, 0, "/"]);
});

test("an unknown name is a clear error", () => {
  assert.throws(() => resolveUser("nobody", passwd, group), /unable to find user nobody/);
  assert.throws(() => resolveUser("app:nogroup", passwd, group), /unable to find group nogroup/);
  assert.throws(() => resolveUser("app", undefined, undefined), /no matching entries/);
});
