import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';

export interface LeaseOptions {
  pool: pg.Pool;
  /** What is led, e.g. `outbox-relay`: one holder per name per database. */
  name: string;
  /** How long a taking or renewal holds without another; a vanished holder is replaced after at most this (plus `retryMs`). */
  ttlMs?: number;
  /** How often a non-holder tries to take the lease. */
  retryMs?: number;
  /** Unique per process; defaults to host, pid and a random part. */
  holder?: string;
}

/**
 * Leadership by a lease row in the database instead of a session lock: `hold()` answers whether
 * this process holds the lease now, renewing it when a third of its time has passed. The local
 * validity is measured from before the renewal statement was sent, on the monotonic clock, so this
 * process stops believing it leads no later than the database lets another take over (clocks that
 * run at the same rate are all it assumes). Correctness never depends on having one leader: the
 * outbox relay stays in per-key order even with two (see outbox.ts); the lease keeps it to one
 * most of the time, and bounds how long none runs.
 */
export class Lease {
  readonly holder: string;
  readonly #pool: pg.Pool;
  readonly #name: string;
  readonly #ttlMs: number;
  readonly #retryMs: number;
  #validUntil = 0;
  #renewAt = 0;
  #nextTry = 0;

  constructor(opts: LeaseOptions) {
    this.#pool = opts.pool;
    this.#name = opts.name;
    this.#ttlMs = opts.ttlMs ?? 5_000;
    this.#retryMs = opts.retryMs ?? Math.max(100, Math.round(this.#ttlMs / 5));
    this.holder = opts.holder ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  }

  /** Whether this process holds the lease (taking or renewing it if due). Throws when the database cannot be reached. */
  async hold(): Promise<boolean> {
    const now = performance.now();
    if (now < this.#renewAt) return true;
    if (now >= this.#validUntil && now < this.#nextTry) return false;
    const sent = performance.now();
    try {
      const { rows } = await this.#pool.query({
        name: 'lease-take',
        text: `insert into leases (name, holder, expires_at) values ($1, $2, now() + $3 * interval '1 millisecond')
               on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
               where leases.holder = excluded.holder or leases.expires_at < now()
               returning holder`,
        values: [this.#name, this.holder, this.#ttlMs],
      });
      if (rows.length === 1) {
        this.#validUntil = sent + this.#ttlMs;
        this.#renewAt = sent + this.#ttlMs / 3;
        return true;
      }
      this.#validUntil = 0;
      this.#renewAt = 0;
      this.#nextTry = performance.now() + this.#retryMs;
      return false;
    } catch (error) {
      // Still held for what is left of the last renewal; the caller decides what to do meanwhile.
      this.#renewAt = 0;
      if (performance.now() >= this.#validUntil) this.#validUntil = 0;
      throw error;
    }
  }

  /** Whether the last taking or renewal is still valid, without asking the database. */
  held(): boolean {
    return performance.now() < this.#validUntil;
  }

  /** Gives the lease up at once (on a clean stop), so another instance need not wait for it to expire. */
  async release(): Promise<void> {
    const wasHeld = this.#validUntil > 0;
    this.#validUntil = 0;
    this.#renewAt = 0;
    if (!wasHeld) return;
    await this.#pool.query('delete from leases where name = $1 and holder = $2', [this.#name, this.holder]);
  }
}
