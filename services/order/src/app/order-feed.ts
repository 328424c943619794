import type { Kysely } from 'kysely';
import { compareCursors, feedNow, readFeed, type FeedCursor, type FeedEntry } from '../db/order-feed.ts';
import type { OrderDb } from '../db/schema.ts';

export interface FeedFilter {
  orderId?: string;
  userId?: string;
}

interface Subscriber {
  filter: FeedFilter;
  cursor: FeedCursor;
  /** Entries the shared poll found while this subscriber was still reading its past. */
  buffered: FeedEntry[] | undefined;
  send: (entry: FeedEntry) => void;
  close: () => void;
}

const PAGE = 500;
const matches = (f: FeedFilter, e: FeedEntry) => (!f.orderId || f.orderId === e.orderId) && (!f.userId || f.userId === e.userId);

/**
 * The live status streams' source: one poll per process of order_history in commit order (see
 * db/order-feed.ts), however many streams are open, fanned out to the subscribers whose filter
 * matches. A subscriber that starts from a cursor (Last-Event-ID, or an order's beginning) first
 * reads its own past, then takes the shared feed from there; entries are handed over in order,
 * each once, whatever the timing: the shared cursor is never behind what a catch-up can miss,
 * and every subscriber skips what it has already sent. Polls run only while a stream is open,
 * every `pollMs` or sooner when this instance commits a change (`poke`).
 */
export class OrderFeed {
  readonly #db: Kysely<OrderDb>;
  readonly #pollMs: number;
  readonly #subscribers = new Set<Subscriber>();
  #cursor: FeedCursor | undefined;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #again = false;
  #closed = false;
  readonly #onError: (error: unknown) => void;

  constructor(db: Kysely<OrderDb>, opts: { pollMs: number; onError: (error: unknown) => void }) {
    this.#db = db;
    this.#pollMs = opts.pollMs;
    this.#onError = opts.onError;
  }

  /**
   * Streams to `send` every status change matching `filter` after `from` (`'now'`: from about
   * this moment). Resolves once the past is sent; returns the unsubscribe.
   */
  async subscribe(filter: FeedFilter, from: FeedCursor | 'now', send: (entry: FeedEntry) => void, close: () => void): Promise<() => void> {
    if (this.#closed) {
      close();
      return () => undefined;
    }
    // The shared cursor is set before any catch-up reads, so the shared feed covers all after it;
    // set once (`??=` after the read: two first subscribers never move it back).
    while (!this.#cursor) {
      const now = await feedNow(this.#db);
      this.#cursor ??= now;
    }
    // Registered at once (no await since the cursor was seen set), buffering (buffering) before its start is read, so nothing the shared feed reads from here
    // on passes it by.
    const sub: Subscriber = { filter, cursor: from === 'now' ? this.#cursor : from, buffered: [], send, close };
    this.#subscribers.add(sub);
    this.#schedule();
    try {
      // "now" is now, not where the shared feed happens to be.
      if (from === 'now') sub.cursor = await feedNow(this.#db);
      else {
        for (;;) {
          const page = await readFeed(this.#db, sub.cursor, filter, PAGE);
          for (const e of page) this.#deliver(sub, e);
          if (page.length < PAGE) break;
        }
      }
      const waiting = sub.buffered ?? [];
      sub.buffered = undefined;
      for (const e of waiting) this.#deliver(sub, e);
    } catch (error) {
      this.#leave(sub);
      throw error;
    }
    return () => this.#leave(sub);
  }

  /** Something changed in this instance: poll now rather than at the next tick. */
  poke(): void {
    if (this.#subscribers.size > 0) this.#pollSoon(0);
  }

  /** Ends every stream (the service is stopping). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const sub of this.#subscribers) sub.close();
    this.#subscribers.clear();
  }

  /** With no subscriber left the shared feed stops; the next one starts it afresh from then. */
  #leave(sub: Subscriber): void {
    this.#subscribers.delete(sub);
    if (this.#subscribers.size === 0 && !this.#polling) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#cursor = undefined;
    }
  }

  #deliver(sub: Subscriber, entry: FeedEntry): void {
    if (compareCursors(entry.cursor, sub.cursor) <= 0) return; // sent already
    sub.cursor = entry.cursor;
    sub.send(entry);
  }

  #schedule(): void {
    if (!this.#timer && !this.#polling) this.#pollSoon(this.#pollMs);
  }

  #pollSoon(ms: number): void {
    if (this.#polling) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#polling = this.#poll().finally(() => {
        this.#polling = undefined;
        if (this.#closed) return;
        if (this.#subscribers.size === 0) {
          this.#cursor = undefined;
          return;
        }
        const now = this.#again;
        this.#again = false;
        this.#pollSoon(now ? 0 : this.#pollMs);
      });
    }, ms);
  }

  async #poll(): Promise<void> {
    try {
      for (;;) {
        const page = await readFeed(this.#db, this.#cursor!, {}, PAGE);
        for (const e of page) {
          this.#cursor = e.cursor;
          for (const sub of this.#subscribers) {
            if (!matches(sub.filter, e)) continue;
            if (sub.buffered) sub.buffered.push(e);
            else this.#deliver(sub, e);
          }
        }
        if (page.length < PAGE) return;
      }
    } catch (error) {
      this.#onError(error);
    }
  }
}
