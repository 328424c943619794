// The fault suite's client: places orders at a steady pace through the public API while faults
// happen, retrying with the same Idempotency-Key until answered, and cancels or retries some.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ApiClient, ApiResponse } from '@oms/devtools/testing';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

/**
 * Places orders at a steady pace through the public API while faults happen, as a careful client
 * would: each order has an Idempotency-Key and is sent again with it until the system answers, so
 * an order is never lost or doubled by a retry. A few orders are cancelled soon after, and a few
 * get an operator retry sent to a random order instance.
 */
export class Load {
  readonly placed = new Map<string, { userId: string; items: { sku: string; quantity: number }[] }>();
  readonly cancelRequested = new Set<string>();
  readonly retryRequested = new Set<string>();
  retries = 0;
  refused = 0;
  #running = false;
  #inflight = new Set<Promise<void>>();
  #loop: Promise<void> | undefined;

  readonly api: ApiClient;
  readonly users: string[];
  readonly skus: { normal: string[]; hot: string[] };
  /** The order service's instances, each addressed directly (operator retries go to a random one). */
  readonly orderInstances: () => ApiClient[];

  constructor(api: ApiClient, users: string[], skus: { normal: string[]; hot: string[] }, orderInstances: () => ApiClient[]) {
    this.api = api;
    this.orderInstances = orderInstances;
    this.users = users;
    this.skus = skus;
  }

  start(perSecond: number): void {
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        if (this.#inflight.size < 50) {
          const p = this.#placeOne().finally(() => this.#inflight.delete(p));
          this.#inflight.add(p);
        }
        await pause(1_000 / perSecond); // the pace of arrivals, not a wait for a condition
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await Promise.all(this.#inflight);
  }

  async #untilAnswered<T>(send: () => Promise<ApiResponse<T>>): Promise<ApiResponse<T>> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await send();
        if (res.status < 500) return res;
      } catch {
        // connection refused or reset while a service restarts
      }
      this.retries++;
      if (attempt > 600) throw new Error('the system did not answer for two minutes');
      await pause(200);
    }
  }

  async #placeOne(): Promise<void> {
    const lines = 1 + Math.floor(Math.random() * 3);
    const items = new Map<string, number>();
    for (let i = 0; i < lines; i++) items.set(Math.random() < 0.08 ? pick(this.skus.hot) : pick(this.skus.normal), 1 + Math.floor(Math.random() * 3));
    const body = { userId: pick(this.users), items: [...items].map(([sku, quantity]) => ({ sku, quantity })) };
    const key = randomUUID();
    const res = await this.#untilAnswered(() => this.api.post<{ id: string }>('/api/orders', body, { 'idempotency-key': key }));
    if (res.status !== 202) {
      this.refused++;
      throw new Error(`order refused: ${res.status} ${JSON.stringify(res.body)}`);
    }
    this.placed.set(res.body.id, body);
    if (Math.random() < 0.06) {
      await pause(Math.random() * 400); // cancel at a random point of the saga
      this.cancelRequested.add(res.body.id);
      const cancel = await this.#untilAnswered(() => this.api.post<unknown>(`/api/orders/${res.body.id}/cancel`));
      assert.ok([202, 409].includes(cancel.status), `cancel answered ${cancel.status}`);
    } else if (Math.random() < 0.04) {
      // An operator's retry at a random point of the saga, sent to a random order instance: it
      // races the replies that instance does not own. Refused (409) unless the saga is overdue.
      await pause(Math.random() * 400);
      this.retryRequested.add(res.body.id);
      const retry = await this.#untilAnswered(() => pick(this.orderInstances()).post<unknown>(`/api/admin/sagas/${res.body.id}/retry`));
      assert.ok([202, 409].includes(retry.status), `retry answered ${retry.status} ${JSON.stringify(retry.body)}`);
    }
  }
}
