// Two instances never deadlock on payment accounts (issue 10 part): batches that charge the same
// users in opposite message orders, applied at the same time by two consumers, wait for each
// other (each batch locks its accounts in user-id order first). Real PostgreSQL.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { AuthorisePayment, decodeMessage } from '@oms/contracts';
import { applyInTransaction, buildMessage, ensureDatabase, migrate, openDatabase, withDatabaseName, type Database } from '@oms/platform';
import type { PaymentDb } from '../src/db/schema.ts';
import { paymentCommandHandler } from '../src/kafka/handlers.ts';

const USERS = Array.from({ length: 6 }, (_, i) => `lock-user-${i}`);
let instances: Database<PaymentDb>[] = [];

before(async () => {
  const server = process.env.OMS_TEST_DATABASE_URL;
  if (!server) throw new Error('OMS_TEST_DATABASE_URL is not set: run the tests with `npm test`, which starts PostgreSQL.');
  const url = withDatabaseName(server, `payment_locks_${randomBytes(4).toString('hex')}`);
  await ensureDatabase(url);
  instances = [openDatabase<PaymentDb>(url, { max: 2 }), openDatabase<PaymentDb>(url, { max: 2 })];
  await migrate(instances[0]!.pool, new URL('../migrations/', import.meta.url).pathname);
});
after(async () => Promise.all(instances.map((i) => i.close())));

const batch = (users: readonly string[]) =>
  users.map((userId) => decodeMessage(buildMessage('', AuthorisePayment, { userId, amount: { amount: 100, currency: 'EUR' } }, { orderId: randomUUID() }).value));

test('two instances authorising for the same users in opposite orders never deadlock, and every hold is taken once', async () => {
  const handler = paymentCommandHandler({ creditLimit: 1_000_000, currency: 'EUR' });
  assert.ok(handler.applyBatch, 'the payment handler applies whole batches');
  const failures: string[] = [];
  for (let round = 0; round < 15; round++) {
    const results = await Promise.allSettled(
      [USERS, [...USERS].reverse()].map((users, i) => instances[i]!.db.transaction().execute((trx) => applyInTransaction(trx, handler, '', batch(users)))),
    );
    for (const r of results) if (r.status === 'rejected') failures.push(`round ${round}: ${(r.reason as Error).message}`);
  }
  assert.deepEqual(failures, []);
  const accounts = await instances[0]!.db.selectFrom('accounts').select(['user_id', 'held']).where('user_id', 'in', USERS).execute();
  assert.equal(accounts.length, USERS.length);
  for (const a of accounts) assert.equal(Number(a.held), 30 * 100, `${a.user_id}: 30 holds of 1.00`);
});
