-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Container" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "hostId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "image" TEXT NOT NULL,
    "imageId" TEXT NOT NULL DEFAULT '',
    "command" TEXT NOT NULL DEFAULT '[]',
    "state" TEXT NOT NULL,
    "pid" INTEGER NOT NULL DEFAULT 0,
    "exitCode" INTEGER,
    "oomKilled" BOOLEAN NOT NULL DEFAULT false,
    "error" TEXT NOT NULL DEFAULT '',
    "restartCount" INTEGER NOT NULL DEFAULT 0,
    "restartPolicy" TEXT NOT NULL DEFAULT 'no',
    "createdAt" TEXT NOT NULL DEFAULT '',
    "startedAt" TEXT NOT NULL DEFAULT '',
    "finishedAt" TEXT NOT NULL DEFAULT '',
    "labels" TEXT NOT NULL DEFAULT '{}',
    "ports" TEXT NOT NULL DEFAULT '[]',
    "env" TEXT NOT NULL DEFAULT '[]',
    "memoryLimit" INTEGER NOT NULL DEFAULT 0,
    "cpus" REAL NOT NULL DEFAULT 0,
    "managed" BOOLEAN NOT NULL DEFAULT false,
    "desiredState" TEXT,
    "reportedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Container_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Container" ("command", "cpus", "createdAt", "desiredState", "error", "exitCode", "finishedAt", "hostId", "id", "image", "imageId", "labels", "managed", "memoryLimit", "name", "oomKilled", "pid", "ports", "reportedAt", "restartCount", "restartPolicy", "startedAt", "state") SELECT "command", "cpus", "createdAt", "desiredState", "error", "exitCode", "finishedAt", "hostId", "id", "image", "imageId", "labels", "managed", "memoryLimit", "name", "oomKilled", "pid", "ports", "reportedAt", "restartCount", "restartPolicy", "startedAt", "state" FROM "Container";
DROP TABLE "Container";
ALTER TABLE "new_Container" RENAME TO "Container";
CREATE INDEX "Container_hostId_idx" ON "Container"("hostId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

