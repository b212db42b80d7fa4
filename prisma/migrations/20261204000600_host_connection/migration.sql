-- AlterTable: the agent connection that made a host online; a disconnect marks the host
-- offline only while the host is still that connection's (no cluster-wide question needed).
-- connectedAt: when the newest accepted connection was opened, so an older one's late online
-- write does not take the host back.
ALTER TABLE "Host" ADD COLUMN "connectionId" TEXT;
ALTER TABLE "Host" ADD COLUMN "connectedAt" DATETIME;
