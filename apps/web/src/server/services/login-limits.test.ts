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
  // a begun attempt that does not succeed is a failure
  for (let i = 0; i < 3; i++)
    await l.begin(i % 2 ? "A@example.com" : "a@example.com", `10.0.0.${i}`);
  const wait = await refused(l.begin("a@example.com", "10.0.0.9"));
  assert.ok(wait > 0 && wait <= 900, `Retry-After ${wait}`);
  await l.begin("b@example.com", "10.0.0.9");
});

test("an address is refused after its failures over many accounts", async () => {
  const l = limits();
  for (let i = 0; i < 5; i++) await l.begin(`u${i}@example.com`, "10.0.0.1");
  await refused(l.begin("fresh@example.com", "10.0.0.1"));
  await l.begin("fresh@example.com", "10.0.0.2");
});

test("a success clears the account's failures", async () => {
  const l = limits();
  for (let i = 0; i < 2; i++) await l.begin("a@example.com", "10.0.0.1");
  await l.begin("a@example.com", "10.0.0.1");
  await l.succeeded("a@example.com", "10.0.0.1");
  for (let i = 0; i < 3; i++) await l.begin("a@example.com", "10.0.0.2");
  await refused(l.begin("a@example.com", "10.0.0.3"));
  // the success gave its address's point back: 10.0.0.1 has used 2 of 5
  for (let i = 0; i < 3; i++) await l.begin(`u${i}@example.com`, "10.0.0.1");
  await refused(l.begin("z@example.com", "10.0.0.1"));
});

test("parallel attempts cannot get past the budget: each is counted before its password", async () => {
  const l = limits();
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) => l.begin("a@example.com", `10.0.1.${i}`)),
  );
  assert.equal(results.filter((r) => r.status === "fulfilled").length, 3);
  // refused tries are given back: the addresses did not pay for them
  await l.begin("other@example.com", "10.0.1.19");
});

test("a lock is reported once (its first refusal) until its window ends, then again", async () => {
  const l = new LoginLimits({ perAccount: 2, perAddress: 100, windowSeconds: 1 });
  const refusal = async (address: string) => {
    try {
      await l.begin("a@example.com", address);
    } catch (err) {
      assert.ok(err instanceof LoginRefused);
      return { by: err.limitedBy, first: err.firstInWindow };
    }
    assert.fail("not refused");
  };
  for (let i = 0; i < 2; i++) await l.begin("a@example.com", "10.0.0.1");
  assert.deepEqual(await refusal("10.0.0.1"), { by: "account", first: true });
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(await refusal(`10.0.0.${i + 2}`), { by: "account", first: false });
  }
  await new Promise((r) => setTimeout(r, 1100));
  for (let i = 0; i < 2; i++) await l.begin("a@example.com", "10.0.0.1"); // a new window
  assert.deepEqual(await refusal("10.0.0.1"), { by: "account", first: true }, "a new lock");
  const addr = new LoginLimits({ perAccount: 100, perAddress: 2, windowSeconds: 900 });
  for (let i = 0; i < 2; i++) await addr.begin(`u${i}@example.com`, "10.0.0.1");
  await assert.rejects(addr.begin("x@example.com", "10.0.0.1"), {
    limitedBy: "address",
    firstInWindow: true,
  });
  await assert.rejects(addr.begin("y@example.com", "10.0.0.1"), { firstInWindow: false });
});
