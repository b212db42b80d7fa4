// Commands that take several names act on each, as Docker's do: a failure is printed and the
// rest still run; the exit code is 1 if any failed.

/** Runs `act` for every name in order; prints each failure to stderr; exit code 1 if any failed. */
export async function forEachName(
  names: readonly string[],
  act: (name: string) => Promise<void>,
): Promise<void> {
  let failed = false;
  for (const name of names) {
    try {
      await act(name);
    } catch (err) {
      failed = true;
      process.stderr.write(`corral-rt: ${(err as Error).message}\n`);
    }
  }
  if (failed) process.exitCode = 1;
}
