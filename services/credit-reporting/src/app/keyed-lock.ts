/**
 * Serialises work per key (account id) inside one process. The stores' version
 * guard is what keeps replicas apart on MongoDB; FerretDB v1 does not make a
 * conditional update atomic against a concurrent one, so two consumers of one
 * account (e.g. AccountOpened and Overdue on different topics) could both win
 * the same version there. Running an account's writes one at a time in-process
 * closes that gap and avoids needless version conflicts everywhere.
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
