/**
 * Lets a request wait for an order to change (`Prefer: wait`) instead of polling. Whoever commits
 * a change to an order's saga in this process calls `changed(id)`; a waiter then reads the order
 * again. Another instance's commits are not seen here, so a waiter also reads again every
 * `recheckMs`: it never waits on a signal that cannot come.
 */
export class OrderWatch {
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #recheckMs: number;
  #closed = false;

  constructor(recheckMs = 250) {
    this.#recheckMs = recheckMs;
  }

  /** After a commit that changed the order's saga (its status may have changed). */
  changed(orderId: string): void {
    const waiters = this.#waiters.get(orderId);
    if (!waiters) return;
    this.#waiters.delete(orderId);
    for (const wake of waiters) wake();
  }

  /**
   * Reads the order with `read` until `done` holds or `waitMs` has passed (or the service is
   * stopping); returns the last value read.
   */
  async until<T>(orderId: string, read: () => Promise<T>, done: (value: T) => boolean, waitMs: number): Promise<T> {
    const deadline = Date.now() + waitMs;
    let value = await read();
    while (!done(value) && !this.#closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const waiters = this.#waiters.get(orderId) ?? new Set();
        this.#waiters.set(orderId, waiters);
        const timer = setTimeout(wake, Math.min(this.#recheckMs, Math.max(0, deadline - Date.now())));
        function wake() {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        }
        waiters.add(wake);
      });
      value = await read();
    }
    return value;
  }

  /** Ends every wait at once (shutdown): each answers with what it has. */
  close(): void {
    this.#closed = true;
    for (const id of [...this.#waiters.keys()]) this.changed(id);
  }
}

/** The `wait` preference of a `Prefer` header (RFC 7240), in ms, at most `maxSeconds`; undefined when absent or not a number. */
export function preferredWaitMs(prefer: string | string[] | undefined, maxSeconds = 30): number | undefined {
  const header = Array.isArray(prefer) ? prefer.join(',') : prefer;
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const match = /^\s*wait\s*=\s*"?(\d{1,6})"?\s*$/i.exec(part.split(';')[0] ?? '');
    if (match) return Math.min(Number(match[1]), maxSeconds) * 1000;
  }
  return undefined;
}
