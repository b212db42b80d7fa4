import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CredentialStore, DOCKER_HUB_AUTH_KEY, registryOfServer } from "./credentials.js";

test("registryOfServer: Docker's spellings of a server", () => {
  assert.equal(registryOfServer("https://index.docker.io/v1/"), "docker.io");
  assert.equal(registryOfServer("registry-1.docker.io"), "docker.io");
  assert.equal(registryOfServer("http://Registry.LAN:5000/"), "registry.lan:5000");
  assert.equal(registryOfServer("127.0.0.1:5000"), "127.0.0.1:5000");
  assert.throws(() => registryOfServer("bad host!"), /invalid registry server "bad host!"/);
  assert.throws(() => registryOfServer(""), /invalid registry server/);
});

test("CredentialStore keeps Docker's auths shape, 0600, and finds entries by any spelling", () => {
  const dir = mkdtempSync(join(tmpdir(), "corral-credentials-"));
  try {
    const path = join(dir, "auth.json");
    const store = new CredentialStore(path);
    assert.equal(store.get("docker.io"), undefined);
    store.set("index.docker.io", { username: "hub", password: "p:w" });
    store.set("r.lan:5000", { username: "alice", password: "s3cret" });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const file = JSON.parse(readFileSync(path, "utf8")) as {
      auths: Record<string, { auth: string }>;
    };
    assert.deepEqual(Object.keys(file.auths).sort(), [DOCKER_HUB_AUTH_KEY, "r.lan:5000"].sort());
    assert.equal(
      Buffer.from(file.auths["r.lan:5000"]?.auth ?? "", "base64").toString(),
      "alice:s3cret",
    );
    assert.deepEqual(store.get("docker.io"), { username: "hub", password: "p:w" });
    assert.deepEqual(store.get("https://r.lan:5000"), { username: "alice", password: "s3cret" });

    // A login again replaces; a file written by Docker (scheme in the key) is read too.
    store.set("r.lan:5000", { username: "alice", password: "new" });
    assert.equal(store.get("r.lan:5000")?.password, "new");
    assert.equal(store.remove("r.lan:5000"), true);
    assert.equal(store.remove("r.lan:5000"), false);
    assert.equal(store.remove("docker.io"), true);
    assert.throws(() => statSync(path), /ENOENT/);

    writeFileSync(
      path,
      JSON.stringify({
        auths: { "https://other.lan": { auth: Buffer.from("u:p").toString("base64") } },
        credsStore: "x",
      }),
    );
    assert.deepEqual(store.get("other.lan"), { username: "u", password: "p" });
    store.remove("other.lan");
    // Keys it does not know are kept.
    assert.deepEqual(JSON.parse(readFileSync(path, "utf8")), { auths: {}, credsStore: "x" });

    writeFileSync(path, "not json");
    assert.throws(() => store.get("x.lan"), /auth\.json is not a valid credentials file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
