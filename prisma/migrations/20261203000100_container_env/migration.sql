-- AlterTable: a container's env as its agent reports it (shown masked to viewers)
ALTER TABLE "Container" ADD COLUMN "env" TEXT NOT NULL DEFAULT '[]';
