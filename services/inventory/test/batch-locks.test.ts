// Two instances never deadlock (issue 10 part): two consumers apply, at the same time, batches
// that touch the same products in opposite message orders. Each batch locks its products in SKU
// order first, so they wait for each other; without that, PostgreSQL aborts one with a deadlock.
// Real PostgreSQL; each batch is applied exactly as the consumer does (inbox, handler, outbox).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { decodeMessage, ReserveStock } from '@oms/contracts';
import { applyInTransaction, buildMessage, ensureDatabase, migrate, openDatabase, withDatabaseName, type Database, type MessageHandler } from '@oms/platform';
import type { InventoryDb } from '../src/db/schema.ts';
import { handleInventoryCommand } from '../src/kafka/handlers.ts';

const SKUS = ['LOCK-A', 'LOCK-B', 'LOCK-C', 'LOCK-D', 'LOCK-E', 'LOCK-F'];
let url: string;
let instances: Database<InventoryDb>[] = [];

before(async () => {
  const server = process.env.OMS_TEST_DATABASE_URL;
  if (!server) throw new Error('OMS_TEST_DATABASE_URL is not set: run the tests with `npm test`, which starts PostgreSQL.');
  url = withDatabaseName(server, `batch_locks_${randomBytes(4).toString('hex')}`);
  await ensureDatabase(url);
  instances = [openDatabase<InventoryDb>(url, { max: 2 }), openDatabase<InventoryDb>(url, { max: 2 })];
  await migrate(instances[0]!.pool, new URL('../migrations/', import.meta.url).pathname);
  await instances[0]!.db
    .insertInto('products')
    .values(SKUS.map((sku) => ({ sku, name: sku, price_amount: 100, currency: 'EUR', available: 1_000_000 })))
    .execute();
});
after(async () => Promise.all(instances.map((i) => i.close())));

/** One poll's batch: reserves of one SKU each, walking the SKUs in the given order. */
function batch(order: readonly string[]) {
  return order.map((sku) => decodeMessage(buildMessage('', ReserveStock, { items: [{ sku, quantity: 1 }] }, { orderId: randomUUID() }).value));
}

test('two instances applying batches over the same products in opposite orders never deadlock', async () => {
  const handler: MessageHandler<InventoryDb> = handleInventoryCommand;
  assert.ok(handler.applyBatch, 'the inventory handler applies (and locks) whole batches');
  const forward = SKUS;
  const backward = [...SKUS].reverse();
  const failures: string[] = [];
  for (let round = 0; round < 15; round++) {
    const results = await Promise.allSettled(
      [forward, backward].map((order, i) => instances[i]!.db.transaction().execute((trx) => applyInTransaction(trx, handler, '', batch(order)))),
    );
    for (const r of results) if (r.status === 'rejected') failures.push(`round ${round}: ${(r.reason as Error).message}`);
  }
  assert.deepEqual(failures, []);
  const rows = await instances[0]!.db.selectFrom('products').select(['sku', 'available', 'reserved']).where('sku', 'in', SKUS).execute();
  for (const row of rows) {
    assert.equal(row.reserved, 30, `${row.sku}: every reserve applied once`);
    assert.equal(row.available + row.reserved, 1_000_000, `${row.sku}: stock conserved`);
  }
});
