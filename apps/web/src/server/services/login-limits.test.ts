import assert from "node:assert/strict";
import { test } from "node:test";
import { TooManyRequests } from "../errors.ts";
import { LoginLimits } from "./login-limits.ts";

const limits = () => new LoginLimits({ perAccount: 3, perAddress: 5, windowSeconds: 900 });

async function refused(p: Promise<void>): Promise<number> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TooManyRequests);
    assert.equal(err.status, 429);
    return err.retryAfterSeconds;
  }
  assert.fail("not refused");
}

test("an account is refused after its failures, from any address; others are not", async () => {
  const l = limits();
  for (let i = 0; i < 3; i++) {
    await l.check("a@example.com", "10.0.0.1");
    await l.failed("A@example.com", `10.0.0.${i}`);
  }
  const wait = await refused(l.check("a@example.com", "10.0.0.9"));
  assert.ok(wait > 0 && wait <= 900, `Retry-After ${wait}`);
  await l.check("b@example.com", "10.0.0.9");
});

test("an address is refused after its failures over many accounts", async () => {
  const l = limits();
  for (let i = 0; i < 5; i++) await l.failed(`u${i}@example.com`, "10.0.0.1");
  await refused(l.check("fresh@example.com", "10.0.0.1"));
  await l.check("fresh@example.com", "10.0.0.2");
});

test("a success clears the account's failures", async () => {
  const l = limits();
  for (let i = 0; i < 2; i++) await l.failed("a@example.com", "10.0.0.1");
  await l.succeeded("a@example.com");
  for (let i = 0; i < 2; i++) await l.failed("a@example.com", "10.0.0.2");
  await l.check("a@example.com", "10.0.0.3");
});
