export interface OrderWatchLimits {
  /** How often a waiter reads again for changes committed by another instance. */
  recheckMs?: number;
  /** Waits at once in this process, and per caller; past them a request answers without waiting. */
  maxWaits?: number;
  maxWaitsPerCaller?: number;
}

export interface OrderWatchPoll {
  changed: ChangedOrders;
  everyMs: number;
  onError?: (error: unknown) => void;
}

/** Which of the watched orders (id → the status its waiters last read) now have another status. */
export type ChangedOrders = (watched: ReadonlyMap<string, string>) => Promise<readonly string[]>;

/**
 * Lets a request wait for an order to change (`Prefer: wait`) instead of polling. Whoever commits
 * a change to an order's saga in this process calls `changed(id)`; a waiter then reads the order
 * again. Another instance's commits (with several instances, the one that owns the order's
 * partition decides its replies) are found by `poll`: one query every `pollMs` for all watched
 * orders at once, whatever their number. A waiter also reads again every `recheckMs` on its own,
 * so it never waits on a signal that cannot come. Waits are bounded per process and per caller,
 * so waiting requests cannot crowd the database pool.
 */
export class OrderWatch {
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #perCaller = new Map<string, number>();
  /** The status each watched order had when its waiters last read it. */
  readonly #seen = new Map<string, string>();
  #poller: NodeJS.Timeout | undefined;
  #polling = false;
  readonly #recheckMs: number;
  readonly #maxWaits: number;
  readonly #maxPerCaller: number;
  #waits = 0;
  #closed = false;

  constructor(limits: OrderWatchLimits = {}) {
    this.#recheckMs = limits.recheckMs ?? 1_000;
    this.#maxWaits = limits.maxWaits ?? 2_000;
    this.#maxPerCaller = limits.maxWaitsPerCaller ?? 20;
  }

  /** Finds changes made by other instances: `poll.changed` every `poll.everyMs` while anyone waits. */
  pollWith(poll: OrderWatchPoll): void {
    clearInterval(this.#poller);
    this.#poller = setInterval(() => {
      if (this.#polling || this.#seen.size === 0) return;
      this.#polling = true;
      const asked = new Map(this.#seen);
      void poll
        .changed(asked)
        .then((ids) => {
          // Only if no waiter has read the order since (a newer read makes the answer stale).
          for (const id of ids) if (this.#seen.get(id) === asked.get(id)) this.changed(id);
        })
        .catch((error: unknown) => poll.onError?.(error))
        .finally(() => (this.#polling = false));
    }, poll.everyMs);
    this.#poller.unref();
  }

  readonly #listeners = new Set<() => void>();

  /** Also tells `fn` of every change this instance commits (the live streams poll sooner). */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** After a commit that changed the order's saga (its status may have changed). */
  changed(orderId: string): void {
    for (const fn of this.#listeners) fn();
    const waiters = this.#waiters.get(orderId);
    if (!waiters) return;
    this.#waiters.delete(orderId);
    this.#seen.delete(orderId);
    for (const wake of waiters) wake();
  }

  /**
   * Reads the order with `read` until `done` holds or `waitMs` has passed (or the service is
   * stopping, or `caller` or this process already waits as much as allowed); returns the last
   * value read. `current`, when the caller has just read the order, stands for the first read.
   */
  async until<T>(orderId: string, read: () => Promise<T>, done: (value: T) => boolean, waitMs: number, caller = '', current?: T, statusOf?: (value: T) => string | undefined): Promise<T> {
    let value = current !== undefined ? current : await read();
    const callerWaits = this.#perCaller.get(caller) ?? 0;
    if (done(value) || this.#waits >= this.#maxWaits || callerWaits >= this.#maxPerCaller) return value;
    this.#waits++;
    this.#perCaller.set(caller, callerWaits + 1);
    try {
      const deadline = Date.now() + waitMs;
      while (!done(value) && !this.#closed && Date.now() < deadline) {
        await this.#signalOrTimeout(orderId, Math.min(this.#recheckMs, Math.max(0, deadline - Date.now())), statusOf?.(value));
        value = await read();
      }
      return value;
    } finally {
      this.#waits--;
      const left = (this.#perCaller.get(caller) ?? 1) - 1;
      if (left > 0) this.#perCaller.set(caller, left);
      else this.#perCaller.delete(caller);
    }
  }

  #signalOrTimeout(orderId: string, ms: number, status: string | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiters = this.#waiters.get(orderId) ?? new Set();
      this.#waiters.set(orderId, waiters);
      if (status !== undefined) this.#seen.set(orderId, status);
      const forget = () => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0 && this.#waiters.get(orderId) === waiters) {
          this.#waiters.delete(orderId);
          this.#seen.delete(orderId);
        }
      };
      const timer = setTimeout(() => wake(), ms);
      function wake() {
        forget();
        resolve();
      }
      waiters.add(wake);
    });
  }

  /** Waits in progress (for tests and metrics). */
  get waiting(): number {
    return this.#waits;
  }

  /** Orders with a waiter registered (for tests: no entry outlives its waits). */
  get watchedOrders(): number {
    return this.#waiters.size;
  }

  /** Ends every wait at once (shutdown): each answers with what it has. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#poller);
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

/** The process's watch on order changes, for requests that wait (`Prefer: wait`). */
export const orderWatch = new OrderWatch();
