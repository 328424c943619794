// Placements batched into one statement (group commit), on real PostgreSQL: every order of a
// batch goes in with its history, saga and first commands, except those whose caller's
// idempotency key is taken (by an earlier order, or by an earlier one of the same batch), which
// leave nothing behind; the outbox rows keep the order they were given in.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { ensureDatabase, migrate, openDatabase, Outgoing, withDatabaseName, type Database } from '@oms/platform';
import { newOrderRow, placeOrders, type OrderRow } from '../src/db/orders.ts';
import { SagaStore } from '../src/db/sagas.ts';
import type { OrderDb } from '../src/db/schema.ts';
import { orderSagaWithPayment } from '../src/domain/saga/order-saga.ts';
import type { SagaInstance } from '../src/domain/saga/types.ts';
import { startOrderSaga } from '../src/app/saga-actions.ts';
import { testClock } from './clock.ts';

let database: Database<OrderDb>;
const clock = testClock;

before(async () => {
  const url = withDatabaseName(process.env.OMS_TEST_DATABASE_URL!, `place_orders_${randomBytes(4).toString('hex')}`);
  await ensureDatabase(url);
  database = openDatabase<OrderDb>(url, { max: 2 });
  await migrate(database.pool, new URL('../migrations/', import.meta.url).pathname);
});
after(async () => database?.close());

function placement(placedBy: string, key: string | null, sku: string) {
  const draft = newOrderRow({ id: randomUUID(), userId: placedBy, placedBy, items: [{ sku, quantity: 1 }], idempotencyKey: key, requestHash: key ? `hash-${sku}` : null }, new Date());
  const out = new Outgoing('');
  const instance = startOrderSaga(orderSagaWithPayment, draft, clock(), (def, payload) => out.send(def, payload, { orderId: draft.id }));
  return { draft, out, instance };
}

async function place(store: SagaStore, batch: { draft: OrderRow; out: Outgoing; instance: SagaInstance }[]) {
  return placeOrders(database.db, batch.map((p) => p.draft), [store.insertManyFrom('placed', batch.map((p) => p.instance)), Outgoing.writeKeyedBy(batch.map((p) => p.out), 'placed')]);
}

test('a batch of placements: all in, except those whose idempotency key is taken, which leave nothing behind', async () => {
  const store = new SagaStore();
  const ada = randomUUID();
  const bob = randomUUID();
  const earlier = placement(ada, 'k-earlier', 'A');
  assert.ok((await place(store, [earlier]))[0]);

  const batch = [
    placement(ada, null, 'B'), // no key
    placement(ada, 'k-earlier', 'C'), // Ada's key, taken before
    placement(ada, 'k-new', 'D'),
    placement(ada, 'k-new', 'E'), // the same key again in this batch: the first one wins
    placement(bob, 'k-earlier', 'F'), // another caller's key of the same name: free
  ];
  const results = await place(store, batch);
  assert.deepEqual(results.map((r) => r?.id), [batch[0]!.draft.id, undefined, batch[2]!.draft.id, undefined, batch[4]!.draft.id]);
  assert.equal(results[0]!.status, 'CREATED');

  const ids = batch.map((p) => p.draft.id);
  const count = async (table: string, column: string) =>
    (await sql<{ id: string }>`select ${sql.ref(column)}::text as id from ${sql.table(table)} where ${sql.ref(column)}::text = any(${ids}::text[])`.execute(database.db)).rows.map((r) => r.id);
  const inserted = [ids[0], ids[2], ids[4]].sort();
  assert.deepEqual((await count('orders', 'id')).sort(), inserted);
  assert.deepEqual((await count('order_history', 'order_id')).sort(), inserted);
  assert.deepEqual((await count('saga_instances', 'order_id')).sort(), inserted);

  // The first commands of the orders that went in, and only theirs, in the order given.
  const { rows } = await sql<{ message_id: string }>`select message_id::text from outbox where message_key = any(${ids}::text[]) order by id`.execute(database.db);
  const expected = batch.filter((_, i) => [0, 2, 4].includes(i)).flatMap((p) => p.out.messages.map((m) => m.messageId));
  assert.ok(expected.length >= 6, 'two first commands per order');
  assert.deepEqual(rows.map((r) => r.message_id), expected);
});
