import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { MAX_ORDER_UNITS } from '@oms/contracts';
import { AppError, Batcher, currentTraceparent, isTransient, Outgoing } from '@oms/platform';
import { findByIdempotencyKey, newOrderRow, placeOrders, type OrderRow } from '../db/orders.ts';
import type { SagaStore } from '../db/sagas.ts';
import type { OrderDb, OrderItem } from '../db/schema.ts';
import type { SagaDefinition, SagaInstance } from '../domain/saga/types.ts';
import { startOrderSaga, type Clock } from './saga-actions.ts';
import { ordersPlaced } from './saga-metrics.ts';

export interface PlaceOrder {
  /** Whose order it is. */
  userId: string;
  /** Who asked (the customer, or an operator ordering for them): the scope of the idempotency key. */
  placedBy: string;
  items: OrderItem[];
  idempotencyKey: string | null;
}

/** The order placed, or the one this caller placed earlier with the same Idempotency-Key (`replayed`). */
export interface Placed {
  order: OrderRow;
  replayed: boolean;
}

interface Unit {
  draft: OrderRow;
  instance: SagaInstance;
  out: Outgoing;
}

/** The same request always hashes the same: key order and whitespace do not matter. */
function requestHash(userId: string, items: readonly OrderItem[]): string {
  const canonical = JSON.stringify({ userId, items: items.map((i) => [i.sku, i.quantity]) });
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Placing orders: the order, its history, its saga instance and its first commands go in
 * together or not at all (the caller's idempotency key was taken). Placements that arrive while
 * the database is busy with others go in together, in one statement (group commit); each answers
 * only after that statement has committed.
 */
export class OrderPlacement {
  readonly #db: Kysely<OrderDb>;
  readonly #store: SagaStore;
  readonly #saga: SagaDefinition;
  readonly #clock: Clock;
  readonly #topicPrefix: string;
  readonly #batcher: Batcher<Unit, OrderRow | undefined>;

  constructor(opts: { db: Kysely<OrderDb>; store: SagaStore; saga: SagaDefinition; clock: Clock; topicPrefix: string; maxBatch: number }) {
    this.#db = opts.db;
    this.#store = opts.store;
    this.#saga = opts.saga;
    this.#clock = opts.clock;
    this.#topicPrefix = opts.topicPrefix;
    const store = opts.store;
    this.#batcher = new Batcher<Unit, OrderRow | undefined>({
      run: (units) =>
        placeOrders(
          opts.db,
          units.map((u) => u.draft),
          [
            store.insertManyFrom(
              'placed',
              units.map((u) => u.instance),
            ),
            Outgoing.writeKeyedBy(
              units.map((u) => u.out),
              'placed',
            ),
          ],
        ),
      maxBatch: opts.maxBatch,
      isolate: (error) => !isTransient(error),
    });
  }

  async place(request: PlaceOrder): Promise<Placed> {
    const units = request.items.reduce((sum, item) => sum + item.quantity, 0);
    if (units > MAX_ORDER_UNITS) {
      throw new AppError('VALIDATION_FAILED', `an order holds at most ${MAX_ORDER_UNITS} units in all (this one ${units}), so that its total is always exact`, {
        errors: [{ path: 'body/items', message: `more than ${MAX_ORDER_UNITS} units in all` }],
      });
    }
    const key = request.idempotencyKey;
    const hash = key ? requestHash(request.userId, request.items) : null;
    const draft = newOrderRow({ id: randomUUID(), userId: request.userId, placedBy: request.placedBy, items: request.items, idempotencyKey: key, requestHash: hash }, new Date());
    const out = new Outgoing(this.#topicPrefix);
    const instance = startOrderSaga(this.#saga, draft, this.#clock(), (def, payload) => out.send(def, payload, { orderId: draft.id }));
    const traceparent = currentTraceparent();
    if (traceparent) instance.traceparent = traceparent;
    out.afterCommit(() => {
      this.#store.remember(instance);
      ordersPlaced.inc();
    });
    const inserted = await this.#batcher.submit({ draft, instance, out });
    if (inserted) {
      out.committed();
      return { order: inserted, replayed: false };
    }
    // This caller used the key before (or a racing request of theirs committed first): that order.
    const earlier = await findByIdempotencyKey(this.#db, request.placedBy, key!);
    if (!earlier) throw new Error('idempotency key conflict without an order');
    if (earlier.request_hash !== hash) throw new AppError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key ${key} was used for a different order`);
    return { order: earlier, replayed: true };
  }
}
