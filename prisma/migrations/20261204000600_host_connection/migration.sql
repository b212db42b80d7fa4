-- AlterTable: the agent connection that made a host online; a disconnect marks the host
-- offline only while the host is still that connection's (no cluster-wide question needed).
ALTER TABLE "Host" ADD COLUMN "connectionId" TEXT;
