-- AlterTable
ALTER TABLE "Container" ADD COLUMN     "env" TEXT NOT NULL DEFAULT '[]';

-- AlterTable
ALTER TABLE "Host" ADD COLUMN     "drainReason" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "drainingAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "StatsPoint" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "subjectId" TEXT NOT NULL,
    "time" TIMESTAMP(3) NOT NULL,
    "cpu" DOUBLE PRECISION NOT NULL,
    "cpuMax" DOUBLE PRECISION NOT NULL,
    "mem" DOUBLE PRECISION NOT NULL,
    "memMax" DOUBLE PRECISION NOT NULL,
    "netRx" DOUBLE PRECISION,
    "netTx" DOUBLE PRECISION,
    "blockRead" DOUBLE PRECISION,
    "blockWrite" DOUBLE PRECISION,

    CONSTRAINT "StatsPoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Notice" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "hostId" TEXT NOT NULL,
    "containerId" TEXT,
    "title" TEXT NOT NULL,
    "message" TEXT NOT NULL DEFAULT '',
    "payload" TEXT NOT NULL DEFAULT '{}',
    "time" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Notice_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "NoticeCursor" (
    "userId" TEXT NOT NULL,
    "readUpTo" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "NoticeCursor_pkey" PRIMARY KEY ("userId")
);

-- CreateTable
CREATE TABLE "Webhook" (
    "id" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "secret" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Webhook_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WebhookDelivery" (
    "id" SERIAL NOT NULL,
    "webhookId" TEXT NOT NULL,
    "noticeId" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lastStatus" INTEGER,
    "lastError" TEXT NOT NULL DEFAULT '',
    "nextAttemptAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "WebhookDelivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "StatsPoint_kind_subjectId_time_idx" ON "StatsPoint"("kind", "subjectId", "time");

-- CreateIndex
CREATE INDEX "StatsPoint_time_idx" ON "StatsPoint"("time");

-- CreateIndex
CREATE INDEX "Notice_time_idx" ON "Notice"("time");

-- CreateIndex
CREATE INDEX "WebhookDelivery_webhookId_id_idx" ON "WebhookDelivery"("webhookId", "id");

-- CreateIndex
CREATE INDEX "WebhookDelivery_status_nextAttemptAt_idx" ON "WebhookDelivery"("status", "nextAttemptAt");

-- AddForeignKey
ALTER TABLE "WebhookDelivery" ADD CONSTRAINT "WebhookDelivery_webhookId_fkey" FOREIGN KEY ("webhookId") REFERENCES "Webhook"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WebhookDelivery" ADD CONSTRAINT "WebhookDelivery_noticeId_fkey" FOREIGN KEY ("noticeId") REFERENCES "Notice"("id") ON DELETE CASCADE ON UPDATE CASCADE;

