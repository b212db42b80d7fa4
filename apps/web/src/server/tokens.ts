// Random bearer secrets (session cookies, API tokens, join tokens, host credentials). They are
// 256-bit random, so a plain SHA-256 is what is stored (argon2 is for low-entropy passwords).
import { createHash, randomBytes } from "node:crypto";

export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString("base64url")}`;
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}
