// The Prisma client over libsql (the JS engine: nothing native to download).
import type { Client, Config } from "@libsql/client";
import { PrismaLibSQL } from "@prisma/adapter-libsql";
import { PrismaClient } from "../generated/prisma/client.ts";
import { databaseUrl } from "./config.ts";

export type Db = PrismaClient;

/** How long a connection waits for another process's write before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * SQLite shared by several processes (web processes behind CORRAL_REDIS_URL, the CLI scripts):
 * libsql opens a fresh connection after each transaction, without the busy timeout of the one
 * before, and Prisma begins transactions DEFERRED, so a transaction that reads then writes
 * while another process writes fails at once with SQLITE_BUSY. Here every connection gets the
 * busy timeout before its first statement, and transactions begin IMMEDIATE (the write lock
 * first, waiting its turn). Prisma already runs one transaction at a time per process, so a
 * lone process loses nothing.
 */
class SharedSqlite extends PrismaLibSQL {
  override createClient(config: Config): Client {
    const client = super.createClient(config);
    let fresh = true;
    const ready = async (): Promise<void> => {
      if (!fresh) return;
      fresh = false;
      await execute(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    };
    const execute = client.execute.bind(client) as (sql: string) => Promise<unknown>;
    const wrap =
      <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
      async (...a: A): Promise<R> => {
        await ready();
        return f(...a);
      };
    client.execute = wrap(client.execute.bind(client)) as Client["execute"];
    client.batch = wrap(client.batch.bind(client));
    client.executeMultiple = wrap(client.executeMultiple.bind(client));
    const transaction = client.transaction.bind(client);
    client.transaction = async () => {
      await ready();
      fresh = true; // the transaction keeps this connection; the next use opens another
      return transaction("write");
    };
    return client;
  }
}

export function createDb(url: string = databaseUrl()): Db {
  return new PrismaClient({
    adapter: new SharedSqlite({ url }),
    // Transactions wait their turn on SQLite's one writer: a reconnect storm queues hundreds.
    transactionOptions: { maxWait: 60_000, timeout: 60_000 },
  });
}

/**
 * SQLite tuned for a server: WAL (readers never wait for the writer) with synchronous=NORMAL
 * (no fsync per commit; a power cut may lose the last commits, never corrupt: agents resend
 * their state on reconnect anyway), and a busy timeout for the CLI scripts beside the server.
 */
export async function tuneSqlite(db: Db): Promise<void> {
  await db.$queryRawUnsafe("PRAGMA journal_mode = WAL");
  await db.$queryRawUnsafe("PRAGMA synchronous = NORMAL");
  await db.$queryRawUnsafe("PRAGMA busy_timeout = 5000");
}
