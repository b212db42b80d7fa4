// SQLite shared by two writers (two web processes behind CORRAL_REDIS_URL, or the CLI scripts
// beside the server): an interactive transaction waits for the other's write instead of failing
// at once with SQLITE_BUSY. The other writer is a real second process: libsql waits for a lock
// synchronously, so a second client in this process could never release its lock meanwhile.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { createDb, prepareDb, type Db } from "./db.ts";

const WEB_DIR = fileURLToPath(new URL("../..", import.meta.url));
let dir: string;
let a: Db;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "corral-db-"));
  const r = spawnSync(join(WEB_DIR, "../../node_modules/.bin/prisma"), ["migrate", "deploy"], {
    cwd: WEB_DIR,
    env: { ...process.env, CORRAL_DATA: dir, DATABASE_URL: "" },
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  const url = `file:${join(dir, "corral.db")}`;
  a = createDb(url);
  await prepareDb(a, url);
});
after(async () => {
  await a?.$disconnect();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Another process (as a second web process or the CLI would) holding the write lock for
 * `ms`, each time a line arrives on its stdin; it says "held" when it has it.
 */
function lockHolder(url: string, ms: number): ChildProcessWithoutNullStreams {
  const script = `
    import { createClient } from "@libsql/client";
    import { createInterface } from "node:readline";
    const c = createClient({ url: ${JSON.stringify(url)} });
    for await (const _ of createInterface({ input: process.stdin })) {
      const t = await c.transaction("write");
      process.stdout.write("held\\n");
      await new Promise((r) => setTimeout(r, ${ms}));
      await t.commit();
    }`;
  return spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: WEB_DIR });
}

const heldOnce = (p: ChildProcessWithoutNullStreams): Promise<void> =>
  new Promise((resolve) => {
    p.stdin.write("\n");
    p.stdout.once("data", () => resolve());
  });

test("while another process writes, a transaction and a plain write wait their turn", async () => {
  const holder = lockHolder(`file:${join(dir, "corral.db")}`, 400);
  try {
    await heldOnce(holder);
    // A read, then a write (as applyDelta does) while the other process holds the lock.
    await a.$transaction(async (tx) => {
      await tx.joinToken.count();
      await tx.joinToken.create({ data: { tokenHash: "a", expiresAt: new Date() } });
    });
    // libsql opens a new connection after a transaction: it must wait as well.
    await heldOnce(holder);
    await a.joinToken.create({ data: { tokenHash: "b", expiresAt: new Date() } });
    assert.equal(await a.joinToken.count(), 2);
  } finally {
    holder.stdin.end();
    holder.kill();
  }
});
