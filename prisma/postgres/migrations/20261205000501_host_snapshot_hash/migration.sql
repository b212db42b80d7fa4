-- AlterTable
ALTER TABLE "Host" ADD COLUMN     "snapshotHash" TEXT;

