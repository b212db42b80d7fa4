// The pg driver adapter for Prisma's schema engine (migrate deploy, db pull), which reads the
// catalogs: their columns of type `name` and `"char"` are refused by @prisma/adapter-pg 6.19.3
// ("Column type 'name' could not be deserialized", prisma/orm#27403). Both are short text that
// pg already returns as strings, so its clients report such columns as text. Only the CLI uses
// this (prisma.config.ts); the app's queries never read a catalog.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";

/** pg type oids: name, "char" and name[] as text and text[] */
const AS_TEXT = new Map([
  [19, 25],
  [18, 25],
  [1003, 1009],
]);

function catalogTypesAsText<R>(result: R): R {
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const f of (r as Partial<pg.QueryResult> | undefined)?.fields ?? []) {
      f.dataTypeID = AS_TEXT.get(f.dataTypeID) ?? f.dataTypeID;
    }
  }
  return result;
}

class CatalogClient extends pg.Client {}
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
// pg's query has a promise and a callback form (the pool uses the latter): patch both.
CatalogClient.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const last = args.at(-1);
  if (typeof last === "function") {
    const done = last as (err: Error | null, res?: unknown) => void;
    args[args.length - 1] = (err: Error | null, res?: unknown) =>
      done(err, err ? res : catalogTypesAsText(res));
    return query.apply(this, args);
  }
  const out = query.apply(this, args);
  return out instanceof Promise ? out.then(catalogTypesAsText) : out;
} as typeof pg.Client.prototype.query;

export function migrateAdapter(connectionString: string): PrismaPg {
  return new PrismaPg(new pg.Pool({ connectionString, Client: CatalogClient }), {
    disposeExternalPool: true,
  });
}
