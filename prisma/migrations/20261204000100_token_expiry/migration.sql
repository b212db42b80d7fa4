-- AlterTable: login tokens are told apart from named ones, and may expire.
ALTER TABLE "ApiToken" ADD COLUMN "kind" TEXT NOT NULL DEFAULT 'named';
ALTER TABLE "ApiToken" ADD COLUMN "expiresAt" DATETIME;

-- Tokens made by POST /api/v1/auth/login before this were all named "login": shown as login
-- tokens from now on (they keep working, without an expiry, until revoked).
UPDATE "ApiToken" SET "kind" = 'login' WHERE "name" = 'login';
