-- Host draining (issue 14). `prisma migrate diff` writes this as a table rebuild; two plain
-- ADD COLUMNs are the same schema and do not fight other migrations that change Host.
ALTER TABLE "Host" ADD COLUMN "drainingAt" DATETIME;
ALTER TABLE "Host" ADD COLUMN "drainReason" TEXT NOT NULL DEFAULT '';
