// Two order-service instances over one database (two saga caches, one saga table, real
// PostgreSQL): an instance whose cached copy of a saga is stale must never drop or misapply a
// reply. Here instance B runs the saga to the end and cancels it; the compensations' replies then
// reach instance A, whose cache still holds the saga as it was when A placed the order.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Static, TSchema } from 'typebox';
import { decodeMessage, PaymentAuthorised, PaymentVoided, StockReleased, StockReservationResult, UserValidated, type MessageDefinition } from '@oms/contracts';
import { applyInTransaction, buildMessage, ensureDatabase, migrate, openDatabase, Outgoing, withDatabaseName, type Database } from '@oms/platform';
import { newOrderRow, placeOrders } from '../src/db/orders.ts';
import { SagaStore } from '../src/db/sagas.ts';
import type { OrderDb } from '../src/db/schema.ts';
import { orderSagaWithPayment } from '../src/domain/saga/order-saga.ts';
import { startOrderSaga } from '../src/app/saga-actions.ts';
import { cancelOrder } from '../src/app/saga-commands.ts';
import { sagaReplyHandler } from '../src/kafka/saga-replies.ts';
import { testClock } from './clock.ts';

let database: Database<OrderDb>;
const clock = testClock;

before(async () => {
  const server = process.env.OMS_TEST_DATABASE_URL;
  if (!server) throw new Error('OMS_TEST_DATABASE_URL is not set: run the tests with `npm test`, which starts PostgreSQL.');
  const url = withDatabaseName(server, `stale_cache_${randomBytes(4).toString('hex')}`);
  await ensureDatabase(url);
  database = openDatabase<OrderDb>(url, { max: 4 });
  await migrate(database.pool, new URL('../migrations/', import.meta.url).pathname);
});
after(async () => database?.close());

/** Delivers a reply to one instance's reply handler, as its consumer would (inbox, handler, outbox, one transaction). */
async function deliver<D extends MessageDefinition>(store: SagaStore, orderId: string, def: D, payload: Static<D['payload'] & TSchema>): Promise<void> {
  const message = decodeMessage(buildMessage('', def, payload, { orderId }).value);
  const { after: afterCommit } = await database.db.transaction().execute((trx) => applyInTransaction(trx, sagaReplyHandler(store, clock), '', [message]));
  afterCommit();
}

const sagaState = async (orderId: string) => (await database.db.selectFrom('saga_instances').select(['state', 'steps']).where('order_id', '=', orderId).executeTakeFirstOrThrow()).state;

test("a compensation's reply reaching an instance whose cached saga is stale is recorded, not dropped", async () => {
  const a = new SagaStore();
  const b = new SagaStore();
  const userId = randomUUID();

  // Instance A places the order: its cache holds the saga as placed (running, stage 0).
  const draft = newOrderRow({ id: randomUUID(), userId, placedBy: userId, items: [{ sku: 'SKU-1', quantity: 1 }], idempotencyKey: null, requestHash: null }, new Date());
  const out = new Outgoing('');
  const instance = startOrderSaga(orderSagaWithPayment, draft, clock(), (def, payload) => out.send(def, payload, { orderId: draft.id }));
  assert.ok((await placeOrders(database.db, [draft], [a.insertManyFrom('placed', [instance]), Outgoing.writeKeyedBy([out], 'placed')]))[0]);
  a.remember(instance);

  // Instance B (which owns the partition now, say after a rebalance) runs the saga to the end…
  await deliver(b, draft.id, UserValidated, { ok: true, reasons: [] });
  await deliver(b, draft.id, StockReservationResult, { ok: true, reasons: [], lines: [{ sku: 'SKU-1', quantity: 1, unitPrice: { amount: 500, currency: 'EUR' } }], total: { amount: 500, currency: 'EUR' } });
  await deliver(b, draft.id, PaymentAuthorised, { ok: true, reasons: [] });
  assert.equal(await sagaState(draft.id), 'SUCCEEDED');
  // …and a customer's cancel reaches B too: the void and the release are sent.
  assert.equal(await cancelOrder(database.db, b, '', draft.id, clock), 'cancelled');
  assert.equal(await sagaState(draft.id), 'CANCELLING');

  // The compensations' answers reach A (the partition moved back), whose copy is still "running".
  await deliver(a, draft.id, PaymentVoided, { voided: true });
  await deliver(a, draft.id, StockReleased, { released: true });
  assert.equal(await sagaState(draft.id), 'CANCELLED', 'both compensations were recorded by the instance with the stale copy');

  // A duplicate of an answer changes nothing, on either instance.
  await deliver(a, draft.id, StockReleased, { released: true });
  await deliver(b, draft.id, PaymentVoided, { voided: true });
  assert.equal(await sagaState(draft.id), 'CANCELLED');
});

/** A whole batch delivered to one instance's reply handler in one transaction, as its consumer would. */
async function deliverBatch(store: SagaStore, replies: readonly { orderId: string; def: MessageDefinition; payload: unknown }[]): Promise<void> {
  const messages = replies.map((r) => decodeMessage(buildMessage('', r.def, r.payload as never, { orderId: r.orderId }).value));
  const { after: afterCommit } = await database.db.transaction().execute((trx) => applyInTransaction(trx, sagaReplyHandler(store, clock), '', messages));
  afterCommit();
}

function placed(store: SagaStore) {
  const userId = randomUUID();
  const draft = newOrderRow({ id: randomUUID(), userId, placedBy: userId, items: [{ sku: 'SKU-1', quantity: 1 }], idempotencyKey: null, requestHash: null }, new Date());
  const out = new Outgoing('');
  const instance = startOrderSaga(orderSagaWithPayment, draft, clock(), (def, payload) => out.send(def, payload, { orderId: draft.id }));
  return { draft, out, instance, remember: () => store.remember(instance) };
}

test('a batch of replies for several sagas, some cached stale, is decided as one by one would: every reply recorded, every command sent', async () => {
  const a = new SagaStore();
  const b = new SagaStore();
  const [one, two] = [placed(a), placed(a)];
  await placeOrders(database.db, [one.draft, two.draft], [a.insertManyFrom('placed', [one.instance, two.instance]), Outgoing.writeKeyedBy([one.out, two.out], 'placed')]);
  one.remember();
  two.remember();
  const priced = { ok: true, reasons: [], lines: [{ sku: 'SKU-1', quantity: 1, unitPrice: { amount: 700, currency: 'EUR' } }], total: { amount: 700, currency: 'EUR' } };
  const short = { ok: false, reasons: [{ code: 'INSUFFICIENT_STOCK' as const, message: 'short' }], lines: [], total: null };

  // One poll's batch on instance A: both sagas' first stage, interleaved; the second one fails.
  await deliverBatch(a, [
    { orderId: one.draft.id, def: UserValidated, payload: { ok: true, reasons: [] } },
    { orderId: two.draft.id, def: UserValidated, payload: { ok: true, reasons: [] } },
    { orderId: one.draft.id, def: StockReservationResult, payload: priced },
    { orderId: two.draft.id, def: StockReservationResult, payload: short },
  ]);
  assert.equal(await sagaState(one.draft.id), 'RUNNING');
  assert.equal(await sagaState(two.draft.id), 'FAILED');
  const orders = await database.db.selectFrom('orders').select(['id', 'status', 'total_amount']).where('id', 'in', [one.draft.id, two.draft.id]).execute();
  assert.deepEqual(Object.fromEntries(orders.map((o) => [o.id, [o.status, o.total_amount]])), { [one.draft.id]: ['CREATED', 700], [two.draft.id]: ['FAILED', null] });
  const sent = async (orderId: string) =>
    (await sql<{ value: string }>`select value from outbox where message_key = ${orderId} order by id`.execute(database.db)).rows.map((r) => (JSON.parse(r.value) as { type: string }).type);
  assert.deepEqual((await sent(one.draft.id)).slice(3), ['payment.authorise'], 'the first saga moves on to payment');
  assert.deepEqual((await sent(two.draft.id)).slice(3), ['order.status-changed'], 'the second fails: its FAILED event, nothing to compensate');

  // Instance B has never seen the first saga; A's copy goes stale once B records the payment.
  await deliverBatch(b, [
    { orderId: one.draft.id, def: PaymentAuthorised, payload: { ok: true, reasons: [] } },
    { orderId: one.draft.id, def: PaymentAuthorised, payload: { ok: true, reasons: [] } }, // a duplicate under a new id: changes nothing
  ]);
  assert.equal(await sagaState(one.draft.id), 'SUCCEEDED');
  assert.deepEqual((await sent(one.draft.id)).slice(4), ['order.status-changed', 'inventory.commit-stock']);

  // A's stale copy (RUNNING) decides a late duplicate together with the second saga's: on the rows, nothing changes.
  await deliverBatch(a, [
    { orderId: one.draft.id, def: PaymentAuthorised, payload: { ok: true, reasons: [] } },
    { orderId: two.draft.id, def: UserValidated, payload: { ok: true, reasons: [] } },
  ]);
  assert.equal(await sagaState(one.draft.id), 'SUCCEEDED');
  assert.equal((await sent(one.draft.id)).length, 6, 'no second READY event, no second commit');
  assert.equal((await sent(two.draft.id)).length, 4);
});
