// Payment commands applied a whole batch at a time must do exactly what applying them one by one
// does. Pure cases of the batch decision, then random batches applied both ways on real
// PostgreSQL (one transaction for the whole batch, against one transaction per command), compared
// row by row: accounts, holds, stored answers and every reply.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { AuthorisePayment, decodeMessage, PaymentVoided, VoidPayment } from '@oms/contracts';
import { applyInTransaction, buildMessage, ensureDatabase, migrate, openDatabase, withDatabaseName, type Database, type DecodedMessage } from '@oms/platform';
import { applyPaymentCommands } from '../src/domain/batch.ts';
import type { PaymentDb } from '../src/db/schema.ts';
import { paymentCommandHandler } from '../src/kafka/handlers.ts';

const eur = (amount: number) => ({ amount, currency: 'EUR' });

test('in one batch: credit used by one order is not there for the next; a void gives it back; a void before its authorise blocks it; a repeat repeats', () => {
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => `${x}0000000-0000-4000-8000-000000000000`) as [string, string, string, string];
  const effects = applyPaymentCommands(
    [
      { kind: 'authorise', orderId: a, userId: 'u', amount: eur(700) },
      { kind: 'authorise', orderId: b, userId: 'u', amount: eur(400) }, // only 300 left
      { kind: 'void', orderId: a }, // 1,000 available again
      { kind: 'authorise', orderId: d, userId: 'u', amount: eur(900) },
      { kind: 'void', orderId: c }, // before its authorise…
      { kind: 'authorise', orderId: c, userId: 'u', amount: eur(10) }, // …which then holds nothing
      { kind: 'authorise', orderId: d, userId: 'u', amount: eur(900) }, // again: the same answer, nothing more held
      { kind: 'void', orderId: a }, // twice: nothing more to give back
    ],
    { accounts: new Map([['u', { creditLimit: 1_000, held: 0, currency: 'EUR' }]]), answers: new Map(), holds: new Map() },
  );
  const [aa, ab, va, ad, vc, ac, ad2, va2] = effects.outcomes;
  assert.deepEqual(aa, { kind: 'authorise', reply: { ok: true, reasons: [] } });
  assert.equal(ab!.kind === 'authorise' && ab!.reply.reasons[0]!.code, 'PAYMENT_DECLINED');
  assert.deepEqual([va, vc, va2], [{ kind: 'void', voided: true }, { kind: 'void', voided: false }, { kind: 'void', voided: false }]);
  assert.deepEqual([ad, ad2], [{ kind: 'authorise', reply: { ok: true, reasons: [] } }, { kind: 'authorise', reply: { ok: true, reasons: [] } }]);
  assert.deepEqual(ac, { kind: 'authorise', reply: { ok: false, reasons: [] } });
  assert.deepEqual(effects.held, [{ userId: 'u', held: 900 }]);
  assert.deepEqual(
    effects.newHolds.map((h) => [h.orderId, h.hold.amount, h.hold.state]),
    [
      [a, 700, 'VOIDED'],
      [d, 900, 'HELD'],
    ],
  );
  assert.deepEqual(effects.answers.map((x) => x.orderId), [a, b, d, c], 'one first answer per order');
  assert.deepEqual(effects.voided, [], 'a hold taken and voided in the batch is written as voided');
});

// ---- both ways on real PostgreSQL ------------------------------------------------------------------
const USERS = ['pay-1', 'pay-2', 'pay-3'];
const EARLIER = randomUUID(); // an order held before the batches, in both databases
const handler = paymentCommandHandler({ creditLimit: 1_000, currency: 'EUR' });
let server: string;
const databases: Database<PaymentDb>[] = [];
before(() => {
  server = process.env.OMS_TEST_DATABASE_URL!;
  if (!server) throw new Error('OMS_TEST_DATABASE_URL is not set: run the tests with `npm test`, which starts PostgreSQL.');
});
after(async () => Promise.all(databases.map((d) => d.close())));

async function freshDatabase(): Promise<Database<PaymentDb>> {
  const url = withDatabaseName(server, `payment_batch_${randomBytes(4).toString('hex')}`);
  await ensureDatabase(url);
  const database = openDatabase<PaymentDb>(url, { max: 2 });
  databases.push(database);
  await migrate(database.pool, new URL('../migrations/', import.meta.url).pathname);
  // One account exists beforehand, with money held by an order outside the batches; the others are made on first use.
  await database.db.insertInto('accounts').values({ user_id: USERS[0]!, credit_limit: 1_000, currency: 'EUR', held: 200 }).execute();
  await database.db.insertInto('holds').values({ order_id: EARLIER, user_id: USERS[0]!, amount: 200, currency: 'EUR', state: 'HELD' }).execute();
  return database;
}

async function state(database: Database<PaymentDb>) {
  const accounts = await database.db.selectFrom('accounts').select(['user_id', 'credit_limit', 'held', 'currency']).orderBy('user_id').execute();
  const holds = await database.db.selectFrom('holds').select(['order_id', 'user_id', 'amount', 'state']).orderBy('order_id').execute();
  const answers = await database.db.selectFrom('authorisation_results').select(['order_id', 'result']).orderBy('order_id').execute();
  const replies = (await sql<{ value: string }>`select value from outbox order by id`.execute(database.db)).rows.map((r) => {
    const e = JSON.parse(r.value) as { type: string; orderId: string; causationId: string; payload: unknown };
    return [e.type, e.orderId, e.causationId, e.payload];
  });
  return { accounts, holds, answers, replies };
}

test('random batches applied at once and one by one leave the same rows and send the same replies', async () => {
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const orders = Array.from({ length: 10 }, () => ({ id: randomUUID(), userId: USERS[Math.floor(random() * USERS.length)]! }));
  let voids = 0;
  for (let round = 0; round < 8; round++) {
    const commands: DecodedMessage[] = [];
    for (let i = 0; i < 30; i++) {
      const order = orders[Math.floor(random() * orders.length)]!;
      const message =
        random() < 0.65
          ? buildMessage('', AuthorisePayment, { userId: order.userId, amount: { amount: 100 * (1 + Math.floor(random() * 6)), currency: random() < 0.1 ? 'USD' : 'EUR' } }, { orderId: order.id })
          : buildMessage('', VoidPayment, {}, { orderId: order.id });
      commands.push(decodeMessage(message.value));
    }
    const [batched, oneByOne] = [await freshDatabase(), await freshDatabase()];
    const { after: done } = await batched.db.transaction().execute((trx) => applyInTransaction(trx, handler, '', commands));
    done();
    for (const command of commands) {
      const { after: each } = await oneByOne.db.transaction().execute((trx) => applyInTransaction(trx, handler, '', [command]));
      each();
    }
    const [x, y] = [await state(batched), await state(oneByOne)];
    assert.deepEqual(x, y, `round ${round}: the batch and one by one differ`);
    assert.ok(x.holds.length > 1, `round ${round} took holds`);
    voids += x.replies.filter((r) => r[0] === PaymentVoided.type && (r[3] as { voided: boolean }).voided).length;
    for (const account of x.accounts) {
      const held = await batched.db.selectFrom('holds').select(sql<number>`coalesce(sum(amount), 0)::int`.as('sum')).where('user_id', '=', account.user_id).where('state', '=', 'HELD').executeTakeFirstOrThrow();
      assert.equal(account.held, held.sum, `${account.user_id}: held is the sum of its holds`);
    }
  }
  assert.ok(voids > 3, `holds were voided (${voids})`);
});
