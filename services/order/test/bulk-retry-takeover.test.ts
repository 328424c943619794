// Bulk retries on real PostgreSQL, across instances: an operation whose runner died (its heartbeat
// went stale) or stopped (released it) is taken over by another instance and resumed after the
// last page recorded, so every matched saga is retried exactly once and nothing stays RUNNING;
// an operation whose runner is alive is left to it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createLogger, ensureDatabase, migrate, openDatabase, withDatabaseName, type Database } from '@oms/platform';
import { waitFor } from '@oms/devtools/testing';
import { BulkRetries } from '../src/app/bulk-retry.ts';
import { claimAbandoned, findBulkOperation } from '../src/db/bulk-operations.ts';
import { newOrderRow, placeOrders } from '../src/db/orders.ts';
import { SagaStore } from '../src/db/sagas.ts';
import type { OrderDb } from '../src/db/schema.ts';
import { onStepResult, onTimer, startSaga } from '../src/domain/saga/engine.ts';
import { orderSaga, orderSagaWithPayment } from '../src/domain/saga/order-saga.ts';
import type { SagaDefinition, Timing } from '../src/domain/saga/types.ts';
import { testClock } from './clock.ts';

let database: Database<OrderDb>;
const logger = createLogger('order-test', 'silent');
const thresholds = { graceMs: 5_000, staleMs: 300_000 };

before(async () => {
  const url = withDatabaseName(process.env.OMS_TEST_DATABASE_URL!, `bulk_retry_${randomBytes(4).toString('hex')}`);
  await ensureDatabase(url);
  database = openDatabase<OrderDb>(url, { max: 4 });
  await migrate(database.pool, new URL('../migrations/', import.meta.url).pathname);
});
after(async () => database?.close());

/** `count` orders whose release was given up (COMPENSATION_FAILED), in order-id order. */
async function stuckSagas(count: number, def: SagaDefinition): Promise<string[]> {
  const giveUpAtOnce: Timing = { now: Date.now(), defaultDeadlineMs: 30_000, compensationRetry: { initialIntervalMs: 1, backoffCoefficient: 1, maxIntervalMs: 1, maxAttempts: 1 }, random: () => 1 };
  const refused = [{ code: 'USER_INACTIVE' as const, message: 'inactive' }];
  const store = new SagaStore();
  const ids = Array.from({ length: count }, () => randomUUID()).sort();
  const orders = ids.map((id) => newOrderRow({ id, userId: 'u', placedBy: 'u', items: [{ sku: 'SKU-1', quantity: 1 }], idempotencyKey: null, requestHash: null }, new Date()));
  const sagas = ids.map((id) => {
    let instance = startSaga(def, id, giveUpAtOnce).instance;
    instance = onStepResult(def, instance, 'reserveStock', true, [], giveUpAtOnce).instance;
    instance = onStepResult(def, instance, 'validateUser', false, refused, giveUpAtOnce).instance;
    instance = onTimer(def, instance, { ...giveUpAtOnce, now: giveUpAtOnce.now + 1 }).instance;
    assert.equal(instance.state, 'COMPENSATION_FAILED');
    return instance;
  });
  await placeOrders(database.db, orders, [store.insertManyFrom('placed', sagas)]);
  return ids;
}

const states = async (ids: readonly string[]) =>
  (await database.db.selectFrom('saga_instances').select(['order_id', 'state']).where('order_id', 'in', [...ids]).orderBy('order_id').execute()).map((r) => r.state);

function runner(): BulkRetries {
  return new BulkRetries({ db: database.db, store: new SagaStore(), topicPrefix: '', clock: testClock, thresholds, logger, staleMs: 1_000, pageSize: 5 });
}

const finished = (id: string) => waitFor(() => findBulkOperation(database.db, id), (op) => op?.status !== 'RUNNING', `operation ${id} to finish`);

// Each test's sagas are of their own definition, and its operation's filter names it.
describe('bulk retries across instances', () => {
  test('an operation whose runner died is taken over after its heartbeat went stale and resumed after its cursor', async () => {
    const ids = await stuckSagas(12, orderSaga);
    const id = randomUUID();
    // A runner that handled the first page and then died an hour ago.
    await database.db
      .insertInto('bulk_operations')
      .values({ id, kind: 'retry-sagas', filter: JSON.stringify({ definition: 'order' }), started_by: 'op-1', status: 'RUNNING', matched: 5, retried: 5, cursor: ids[4]!, runner: 'dead', heartbeat_at: new Date(Date.now() - 3_600_000) })
      .execute();

    const b = runner();
    b.watch(20);
    try {
      const op = await finished(id);
      assert.deepEqual({ status: op!.status, matched: op!.matched, retried: op!.retried, skipped: op!.skipped, failed: op!.failed, runner: op!.runner }, { status: 'DONE', matched: 12, retried: 12, skipped: 0, failed: 0, runner: b.runner });
      assert.deepEqual(await states(ids), [...Array(5).fill('COMPENSATION_FAILED'), ...Array(7).fill('COMPENSATING')], 'the dead runner\'s page is not retried again');
    } finally {
      await b.stop();
    }

    const alive = randomUUID();
    await database.db
      .insertInto('bulk_operations')
      .values({ id: alive, kind: 'retry-sagas', filter: JSON.stringify({ state: 'RUNNING' }), started_by: 'op-2', status: 'RUNNING', runner: 'alive' })
      .execute();
    assert.equal(await claimAbandoned(database.db, 'another', 30_000), undefined, 'an operation whose runner writes is never taken');
    assert.equal((await findBulkOperation(database.db, alive))!.runner, 'alive');
    await database.db.deleteFrom('bulk_operations').where('id', '=', alive).execute();
  });

  test('a runner that stops mid-run releases its operation with its progress; another instance finishes it, every saga retried once', async () => {
    const ids = await stuckSagas(23, orderSagaWithPayment);
    // The fifth saga's row held by someone else: the run waits there, mid-way.
    const holder = await database.pool.connect();
    await holder.query('begin');
    await holder.query('select 1 from saga_instances where order_id = $1 for update', [ids[4]]);
    const a = runner();
    const started = await a.start({ definition: 'order-with-payment' }, 'op-3');
    assert.equal(started.status, 'RUNNING');
    assert.equal(started.total, 23, 'what matched at the start: the end of the progress bar');
    // Progress is written saga by saga.
    await waitFor(async () => (await findBulkOperation(database.db, started.id))!.matched, (n) => n === 4, 'the first four sagas recorded', 10_000);
    const stopping = a.stop();
    await holder.query('commit');
    holder.release();
    await stopping;
    const released = (await findBulkOperation(database.db, started.id))!;
    assert.equal(released.status, 'RUNNING', 'not done: only stopped');
    assert.equal(released.runner, null, 'released for any instance');
    assert.equal(released.matched, 5, 'the saga in hand finished, then it stopped');
    assert.equal(released.retried, released.matched);
    assert.equal(released.matched, released.cursor === null ? 0 : ids.indexOf(released.cursor) + 1, 'the cursor is the last saga counted');
    await assert.rejects(a.start({ definition: 'order-with-payment' }, 'op-3'), /stopping/);

    const b = runner();
    b.watch(20);
    try {
      const op = (await finished(started.id))!;
      assert.deepEqual({ status: op.status, matched: op.matched, retried: op.retried, startedBy: op.started_by }, { status: 'DONE', matched: 23, retried: 23, startedBy: 'op-3' });
      assert.ok(op.finished_at);
      assert.deepEqual(await states(ids), Array(23).fill('COMPENSATING'));
    } finally {
      await b.stop();
    }
  });
});
