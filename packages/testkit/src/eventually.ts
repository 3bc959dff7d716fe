/**
 * Polls `fn` until it returns something other than undefined, or fails naming what it waited for (with the last
 * error `fn` threw). The one polling helper of the tests: it waits for a positive outcome; it never decides that
 * something did not happen (for that, wait for a later marker to be processed, then assert — see docs/testing.md).
 */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000, pollMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
