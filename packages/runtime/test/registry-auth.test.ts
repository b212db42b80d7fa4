// login/logout against Debian's docker-registry behind htpasswd Basic auth on 127.0.0.1:
// a wrong password is refused in one line and nothing is saved; the right one is saved
// root-only (0600) in Docker's auths shape, the daemon's pulls use it, logout forgets it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildTestImages } from "./fixtures/images.js";
import { pushWithSkopeo, startRegistry, type TestRegistry } from "./fixtures/registry.js";
import { CLI, startRuntime, type TestRuntime } from "./fixtures/runtime.js";

let runtime: TestRuntime;
let registry: TestRegistry;
let ref: string;
let authFile: string;

before(async () => {
  runtime = await startRuntime("registry-auth");
  const htpasswd = join(runtime.base, "htpasswd");
  execFileSync("htpasswd", ["-Bbc", htpasswd, "alice", "s3cret pass"], { stdio: "ignore" });
  registry = await startRegistry({ htpasswd });
  const images = await buildTestImages(join(runtime.base, "images"));
  ref = `${registry.host}/team/app:1`;
  await pushWithSkopeo(`oci:${images.layoutDir}:latest`, ref, [
    "--dest-creds",
    "alice:s3cret pass",
  ]);
  authFile = join(runtime.base, "root", "auth.json");
});

after(async () => {
  runtime?.cleanup();
  await registry?.stop();
});

/** The CLI with `input` on its stdin (for --password-stdin). */
function rtInput(input: string, ...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: runtime.env,
    input,
    encoding: "utf8",
    timeout: 60000,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test("a pull before login fails, saying to log in", () => {
  const r = runtime.rt("pull", ref);
  assert.equal(r.code, 1);
  assert.equal(
    r.err,
    `corral-rt: unauthorized: ${registry.host}/team/app requires authentication (corral-rt login ${registry.host}) or does not exist\n`,
  );
});

test("a wrong password is refused in one line and nothing is saved", () => {
  const r = runtime.rt("login", registry.host, "-u", "alice", "-p", "wrong");
  assert.equal(r.code, 1);
  const lines = r.err.trim().split("\n");
  assert.equal(
    lines[0],
    "WARNING! Using --password via the CLI is insecure. Use --password-stdin.",
  );
  assert.equal(
    lines[1],
    `corral-rt: login to ${registry.host} failed: wrong user name or password`,
  );
  assert.equal(lines.length, 2);
  assert.equal(existsSync(authFile), false);

  const unknown = rtInput("s3cret pass\n", "login", registry.host, "-u", "bob", "--password-stdin");
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /wrong user name or password\n$/);
  assert.equal(existsSync(authFile), false);
});

test("login saves the credentials root-only; pulls use them; logout forgets them", () => {
  const login = rtInput(
    "s3cret pass\n",
    "login",
    `http://${registry.host}/`,
    "-u",
    "alice",
    "--password-stdin",
  );
  assert.equal(login.code, 0, login.err);
  assert.equal(login.out, "Login Succeeded\n");
  assert.equal(statSync(authFile).mode & 0o777, 0o600);
  assert.equal(statSync(join(runtime.base, "root")).mode & 0o777, 0o700);
  const saved = JSON.parse(readFileSync(authFile, "utf8")) as {
    auths: Record<string, { auth: string }>;
  };
  assert.deepEqual(Object.keys(saved.auths), [registry.host]);
  assert.equal(
    Buffer.from(saved.auths[registry.host]?.auth ?? "", "base64").toString(),
    "alice:s3cret pass",
  );

  const pull = runtime.rt("pull", ref);
  assert.equal(pull.code, 0, pull.err);
  const run = runtime.rt("run", "--rm", "--network", "none", ref, "echo", "pulled with a login");
  assert.equal(run.code, 0, run.err);
  assert.equal(run.out, "pulled with a login\n");

  const logout = runtime.rt("logout", registry.host);
  assert.equal(logout.code, 0, logout.err);
  assert.equal(logout.out, `Removing login credentials for ${registry.host}\n`);
  assert.equal(existsSync(authFile), false);
  assert.equal(runtime.rt("logout", registry.host).out, `Not logged in to ${registry.host}\n`);

  assert.equal(runtime.rt("rmi", ref).code, 0);
  const again = runtime.rt("pull", ref);
  assert.equal(again.code, 1);
  assert.match(again.err, /requires authentication/);
});

test("login to a server that is not a host is refused in one line", () => {
  const r = rtInput("x\n", "login", "bad host!", "-u", "alice", "--password-stdin");
  assert.equal(r.code, 1);
  assert.match(r.err, /^corral-rt: invalid registry server "bad host!": use host\[:port\]/);
  assert.equal(r.err.trim().split("\n").length, 1);
});

test("a user name with ':' or a control character is refused in one line", () => {
  const colon = rtInput(
    "s3cret pass\n",
    "login",
    registry.host,
    "-u",
    "al:ice",
    "--password-stdin",
  );
  assert.equal(colon.code, 1);
  assert.equal(colon.err, "corral-rt: login: the user name must not contain ':' (RFC 7617)\n");
  const control = rtInput("x\n", "login", registry.host, "-u", "al\tice", "--password-stdin");
  assert.equal(control.code, 1);
  assert.equal(
    control.err,
    "corral-rt: login: the user name must not contain control characters\n",
  );
  assert.equal(existsSync(authFile), false);
});
