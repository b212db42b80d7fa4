// The Prisma client over libsql (the JS engine: nothing native to download).
import { PrismaLibSQL } from "@prisma/adapter-libsql";
import { PrismaClient } from "../generated/prisma/client.ts";
import { databaseUrl } from "./config.ts";

export type Db = PrismaClient;

export function createDb(url: string = databaseUrl()): Db {
  return new PrismaClient({ adapter: new PrismaLibSQL({ url }) });
}
