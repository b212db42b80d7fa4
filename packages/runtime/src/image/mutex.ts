/**
 * A FIFO async mutex: the store's metadata (repositories.json, image records) is changed by
 * read-modify-write sequences that must not interleave within the daemon process.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    // The next waiter starts after this one settles, whether it succeeded or not.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
