-- AlterTable
ALTER TABLE "ApiToken" ADD COLUMN     "expiresAt" TIMESTAMP(3),
ADD COLUMN     "kind" TEXT NOT NULL DEFAULT 'named';


-- Tokens made by POST /api/v1/auth/login before this were all named "login": shown as login
-- tokens from now on (they keep working, without an expiry, until revoked).
UPDATE "ApiToken" SET "kind" = 'login' WHERE "name" = 'login';
