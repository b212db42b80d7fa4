-- AlterTable
ALTER TABLE "Host" ADD COLUMN     "connectionId" TEXT;

