// The Prisma client for DATABASE_URL: SQLite through libsql or PostgreSQL through pg, both on
// the JS engine (nothing native to download). Each provider has its own generated client
// (src/db/schemas.ts); both come from one data model.
import type { Client, Config } from "@libsql/client";
import { PrismaLibSQL } from "@prisma/adapter-libsql";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.ts";
import { PrismaClient as PostgresClient } from "../generated/prisma-postgres/client.ts";
import { databaseProvider, databaseUrl } from "./config.ts";

/**
 * The services' client type. It is the SQLite client's: the PostgreSQL one is generated from
 * the same models, so it has the same delegates and row types; it only accepts more options
 * (isolation levels besides Serializable, `mode: "insensitive"`), which TypeScript counts as a
 * different `$transaction`, hence the cast below. Services use what both accept.
 */
export type Db = PrismaClient;

// Transactions wait their turn on SQLite's one writer: a reconnect storm queues hundreds.
const transactionOptions = { maxWait: 60_000, timeout: 60_000 };

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
  if (databaseProvider(url) === "postgresql") {
    const pg = new PostgresClient({
      adapter: new PrismaPg({ connectionString: url }),
      transactionOptions,
    });
    return pg as unknown as Db;
  }
  return new PrismaClient({ adapter: new SharedSqlite({ url }), transactionOptions });
}

/**
 * Readies a new client for a server: on SQLite, WAL (readers never wait for the writer) with
 * synchronous=NORMAL (no fsync per commit; a power cut may lose the last commits, never
 * corrupt: agents resend their state on reconnect anyway), and a busy timeout for the CLI
 * scripts beside the server. PostgreSQL needs nothing of the kind.
 */
export async function prepareDb(db: Db, url: string): Promise<void> {
  if (databaseProvider(url) !== "sqlite") return;
  await db.$queryRawUnsafe("PRAGMA journal_mode = WAL");
  await db.$queryRawUnsafe("PRAGMA synchronous = NORMAL");
  await db.$queryRawUnsafe("PRAGMA busy_timeout = 5000");
}
