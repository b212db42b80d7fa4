-- AlterTable: the hash of the last snapshot stored while the host's rows are still exactly
-- those, so that a reconnect storm's unchanged snapshots are one UPDATE each.
ALTER TABLE "Host" ADD COLUMN "snapshotHash" TEXT;
