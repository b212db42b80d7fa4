import { test } from "node:test";
import assert from "node:assert/strict";
import { CgroupLimitError } from "./errors.js";
import { cpusToLimits, sharesToWeight, swapMaxV2, validateLimits } from "./limits.js";

const MiB = 1024 * 1024;

test("memory below 6 MiB is refused like Docker, with what to do", () => {
  assert.throws(
    () => validateLimits({ memoryBytes: 4 * MiB }),
    (err: unknown) =>
      err instanceof CgroupLimitError &&
      /^Minimum memory limit allowed is 6MB/.test(err.message) &&
      !err.message.includes("\n"),
  );
  validateLimits({ memoryBytes: 6 * MiB });
  validateLimits({ memoryBytes: -1 });
});

test("memory+swap follows Docker's semantics", () => {
  validateLimits({ memoryBytes: 32 * MiB, memorySwapBytes: 64 * MiB });
  validateLimits({ memoryBytes: 32 * MiB, memorySwapBytes: 32 * MiB });
  validateLimits({ memoryBytes: 32 * MiB, memorySwapBytes: -1 });
  validateLimits({ memorySwapBytes: -1 });
  assert.throws(
    () => validateLimits({ memoryBytes: 32 * MiB, memorySwapBytes: 16 * MiB }),
    /Minimum memoryswap limit should be larger than memory limit/,
  );
  assert.throws(() => validateLimits({ memorySwapBytes: 64 * MiB }), /set memoryBytes too/);
  // On update the memory limit already in force counts.
  validateLimits({ memorySwapBytes: 64 * MiB }, 32 * MiB);
  assert.throws(() => validateLimits({ memorySwapBytes: 16 * MiB }, 32 * MiB), /memoryswap/);
});

test("cpu, shares and pids ranges", () => {
  assert.throws(() => validateLimits({ cpuPeriodMicros: 500 }), /less than 1ms/);
  assert.throws(() => validateLimits({ cpuQuotaMicros: 999 }), /less than 1ms/);
  validateLimits({ cpuQuotaMicros: -1, cpuPeriodMicros: 100000 });
  assert.throws(() => validateLimits({ cpuShares: 1 }), /between 2 and 262144/);
  assert.throws(() => validateLimits({ pidsLimit: 0 }), /-1 for unlimited/);
  assert.throws(() => validateLimits({ pidsLimit: 1.5 }), /integer/);
  validateLimits({ pidsLimit: -1, cpuShares: 262144 });
});

test("--cpus becomes quota/period", () => {
  assert.deepEqual(cpusToLimits(0.5, 2), { cpuQuotaMicros: 50000, cpuPeriodMicros: 100000 });
  assert.deepEqual(cpusToLimits(1.5, 2), { cpuQuotaMicros: 150000, cpuPeriodMicros: 100000 });
  assert.throws(() => cpusToLimits(3, 2), /Range of CPUs is from 0.01 to 2.00/);
  assert.throws(() => cpusToLimits(0, 2), /Range of CPUs/);
});

test("shares -> weight uses runc's conversion", () => {
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(512), 20);
  assert.equal(sharesToWeight(262144), 10000);
});

test("memory+swap -> memory.swap.max", () => {
  assert.equal(swapMaxV2(32 * MiB, 64 * MiB), String(32 * MiB));
  assert.equal(swapMaxV2(32 * MiB, 32 * MiB), "0");
  assert.equal(swapMaxV2(32 * MiB, -1), "max");
});
