// The Prisma client over libsql (the JS engine: nothing native to download).
import { PrismaLibSQL } from "@prisma/adapter-libsql";
import { PrismaClient } from "../generated/prisma/client.ts";
import { databaseUrl } from "./config.ts";

export type Db = PrismaClient;

export function createDb(url: string = databaseUrl()): Db {
  return new PrismaClient({
    adapter: new PrismaLibSQL({ url }),
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
