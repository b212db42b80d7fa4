-- AlterTable
ALTER TABLE "Host" ADD COLUMN     "connectedAt" TIMESTAMP(3),
ADD COLUMN     "connectionId" TEXT;

