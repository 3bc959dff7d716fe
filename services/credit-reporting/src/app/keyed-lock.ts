/**
 * Serialises work per key (account id) inside one process. Correctness does not rest on it: every write is
 * guarded by the account's version (a conditional single-document update, atomic on MongoDB and on the
 * testkit's patched FerretDB), and a lost race is retried on fresh state. It only saves those retries when
 * several consumers of one process (AccountOpened, Overdue, PaymentReceived on different topics) touch the same
 * account at once.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` after every earlier `run` with the same key has finished. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
