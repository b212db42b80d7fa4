import assert from "node:assert/strict";
import { test } from "node:test";
import { TooManyRequests } from "../errors.ts";
import { LoginLimits, LoginRefused } from "./login-limits.ts";

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

test("a lock is reported once (its first refusal) until its window ends, then again", async () => {
  const l = new LoginLimits({ perAccount: 2, perAddress: 100, windowSeconds: 1 });
  const refusal = async (address: string) => {
    try {
      await l.check("a@example.com", address);
    } catch (err) {
      assert.ok(err instanceof LoginRefused);
      return { by: err.limitedBy, first: err.firstInWindow };
    }
    assert.fail("not refused");
  };
  for (let i = 0; i < 2; i++) await l.failed("a@example.com", "10.0.0.1");
  assert.deepEqual(await refusal("10.0.0.1"), { by: "account", first: true });
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(await refusal(`10.0.0.${i + 2}`), { by: "account", first: false });
  }
  await new Promise((r) => setTimeout(r, 1100));
  await l.check("a@example.com", "10.0.0.1"); // the window is over
  for (let i = 0; i < 2; i++) await l.failed("a@example.com", "10.0.0.1");
  assert.deepEqual(await refusal("10.0.0.1"), { by: "account", first: true }, "a new lock");
  const addr = new LoginLimits({ perAccount: 100, perAddress: 2, windowSeconds: 900 });
  for (let i = 0; i < 2; i++) await addr.failed(`u${i}@example.com`, "10.0.0.1");
  await assert.rejects(addr.check("x@example.com", "10.0.0.1"), {
    limitedBy: "address",
    firstInWindow: true,
  });
  await assert.rejects(addr.check("y@example.com", "10.0.0.1"), { firstInWindow: false });
});
