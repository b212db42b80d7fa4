import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError, RuntimeClient } from "../client/client.js";
import { runtimePaths } from "../paths.js";
import { UserError } from "../util/errors.js";
import { InitError } from "./init-pool.js";
import { Router } from "./http.js";
import { StartError } from "./containers.js";

/** A router on a unix socket, reached with the client the CLI and the agent use. */
async function serve(router: Router): Promise<{ client: RuntimeClient; close(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "corral-http-"));
  const socket = join(dir, "rtd.sock");
  const server = createServer((req, res) => void router.handle(req, res));
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    client: new RuntimeClient({ ...runtimePaths({ CORRAL_ROOT: dir }), socket }),
    close() {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function refusal(client: RuntimeClient, path: string): Promise<ApiError> {
  const err = await client.call("POST", path).then(
    () => assert.fail(`${path} succeeded`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ApiError, String(err));
  return err;
}

test("a start refused for a conflict stays a 409, with Docker's exit code for the CLI", async () => {
  const port =
    "Bind for 0.0.0.0:8080 failed: port is already allocated by container web-1 (0123456789ab) on this host: choose another host port";
  const router = new Router()
    .on("POST", "/port", async () => {
      throw new StartError(125, port, new UserError(port, 409));
    })
    .on("POST", "/exec", async () => {
      const cause = new InitError(127, 'exec: "nope": executable file not found in $PATH');
      throw new StartError(127, cause.message, cause);
    })
    .on("POST", "/other", async () => {
      throw new StartError(125, "mount proc: EPERM", new Error("mount proc: EPERM"));
    })
    .on("POST", "/name", async () => {
      throw new UserError('Conflict. The container name "/web" is already in use', 409);
    });
  const { client, close } = await serve(router);
  try {
    const clash = await refusal(client, "/port");
    assert.equal(clash.status, 409);
    assert.equal(clash.exitCode, 125);
    assert.equal(clash.message, port);
    const name = await refusal(client, "/name");
    assert.equal(name.status, 409);
    // what the user's command or config got wrong is still a 400
    const exec = await refusal(client, "/exec");
    assert.equal(exec.status, 400);
    assert.equal(exec.exitCode, 127);
    const other = await refusal(client, "/other");
    assert.equal(other.status, 400);
    assert.equal(other.exitCode, 125);
  } finally {
    close();
  }
});
