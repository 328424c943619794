// Stock commands applied a whole batch at a time must do exactly what applying them one by one
// does. Pure cases of the batch decision, then random batches applied both ways on real
// PostgreSQL (one transaction for the whole batch, against one transaction per command), compared
// row by row: counters, reservation lines, stored answers and every reply.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { CommitStock, decodeMessage, ReleaseStock, ReserveStock, type MessageDefinition } from '@oms/contracts';
import { applyInTransaction, buildMessage, ensureDatabase, migrate, openDatabase, withDatabaseName, type Database, type DecodedMessage } from '@oms/platform';
import { applyStockCommands } from '../src/domain/batch.ts';
import type { InventoryDb } from '../src/db/schema.ts';
import { handleInventoryCommand } from '../src/kafka/handlers.ts';

const price = { amount: 250, currency: 'EUR' };
const level = (sku: string, available: number) => [sku, { sku, available, price }] as const;

test('in one batch: the first of two orders for the last units wins; reserve, commit and release of one order; a release before its reserve', () => {
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => `${x}0000000-0000-4000-8000-000000000000`) as [string, string, string, string];
  const effects = applyStockCommands(
    [
      { kind: 'reserve', orderId: a, lines: [{ sku: 'S', quantity: 3 }] },
      { kind: 'reserve', orderId: b, lines: [{ sku: 'S', quantity: 2 }] }, // only 1 left
      { kind: 'commit', orderId: a },
      { kind: 'release', orderId: a }, // a cancel after ready: committed stock comes back
      { kind: 'release', orderId: c }, // before its reserve…
      { kind: 'reserve', orderId: c, lines: [{ sku: 'S', quantity: 1 }] }, // …which then reserves nothing
      { kind: 'reserve', orderId: d, lines: [{ sku: 'S', quantity: 4 }] }, // a's 3 are back: 4 available
      { kind: 'reserve', orderId: d, lines: [{ sku: 'S', quantity: 4 }] }, // again: the same answer, nothing more taken
    ],
    { stock: new Map([level('S', 4)]), answers: new Map([a, b, c, d].map((id) => [id, null])), held: new Map() },
  );
  const [ra, rb, ca, la, lc, rc, rd, rd2] = effects.outcomes;
  assert.deepEqual(ra, { kind: 'reserve', reply: { ok: true, reasons: [], lines: [{ sku: 'S', quantity: 3, unitPrice: price }], total: { amount: 750, currency: 'EUR' } } });
  assert.equal(rb!.kind === 'reserve' && rb!.reply.reasons[0]!.code, 'INSUFFICIENT_STOCK');
  assert.deepEqual([ca, la, lc], [{ kind: 'commit', committed: true }, { kind: 'release', released: true }, { kind: 'release', released: false }]);
  assert.deepEqual(rc, { kind: 'reserve', reply: { ok: false, reasons: [], lines: [], total: null } });
  assert.ok(rd!.kind === 'reserve' && rd!.reply.ok);
  assert.deepEqual(rd2, rd);
  const net = effects.moves.reduce((t, m) => ({ available: t.available + m.available, reserved: t.reserved + m.reserved, committed: t.committed + m.committed }), { available: 0, reserved: 0, committed: 0 });
  assert.deepEqual(net, { available: -4, reserved: 4, committed: 0 }, 'only d holds stock at the end');
  assert.deepEqual(effects.newLines.map((l) => [l.orderId, l.line.quantity, l.line.state]), [[a, 3, 'RELEASED'], [d, 4, 'RESERVED']]);
  assert.deepEqual(effects.answers.map((x) => x.orderId).sort(), [a, b, d].sort(), "c's answer is the refusal its release claimed");
});

// ---- both ways on real PostgreSQL ------------------------------------------------------------------
const SKUS = ['Q-1', 'Q-2', 'Q-3'];
let server: string;
const databases: Database<InventoryDb>[] = [];
before(() => {
  server = process.env.OMS_TEST_DATABASE_URL!;
});
after(async () => Promise.all(databases.map((d) => d.close())));

async function freshDatabase(): Promise<Database<InventoryDb>> {
  const url = withDatabaseName(server, `stock_batch_${randomBytes(4).toString('hex')}`);
  await ensureDatabase(url);
  const database = openDatabase<InventoryDb>(url, { max: 2 });
  databases.push(database);
  await migrate(database.pool, new URL('../migrations/', import.meta.url).pathname);
  await database.db.insertInto('products').values(SKUS.map((sku, i) => ({ sku, name: sku, price_amount: 100 * (i + 1), currency: 'EUR', available: 6 }))).execute();
  return database;
}

async function state(database: Database<InventoryDb>) {
  const products = await database.db.selectFrom('products').select(['sku', 'available', 'reserved', 'committed']).orderBy('sku').execute();
  const lines = await database.db.selectFrom('reservations').select(['order_id', 'sku', 'quantity', 'state']).orderBy('order_id').orderBy('sku').execute();
  const answers = await database.db.selectFrom('reservation_results').select(['order_id', 'result']).orderBy('order_id').execute();
  const replies = (await sql<{ value: string }>`select value from outbox order by id`.execute(database.db)).rows.map((r) => {
    const e = JSON.parse(r.value) as { type: string; orderId: string; causationId: string; payload: unknown };
    return [e.type, e.orderId, e.causationId, e.payload];
  });
  return { products, lines, answers, replies };
}

test('random batches applied at once and one by one leave the same rows and send the same replies', async () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const orders = Array.from({ length: 8 }, () => randomUUID());
  for (let round = 0; round < 8; round++) {
    const commands: DecodedMessage[] = [];
    for (let i = 0; i < 30; i++) {
      const orderId = orders[Math.floor(random() * orders.length)]!;
      const pick = random();
      const def: MessageDefinition = pick < 0.5 ? ReserveStock : pick < 0.75 ? CommitStock : ReleaseStock;
      const items = [{ sku: SKUS[Math.floor(random() * SKUS.length)]!, quantity: 1 + Math.floor(random() * 3) }, ...(random() < 0.4 ? [{ sku: SKUS[Math.floor(random() * SKUS.length)]!, quantity: 1 }] : [])];
      commands.push(decodeMessage(buildMessage('', def, (def === ReserveStock ? { items } : {}) as never, { orderId }).value));
    }
    const [batched, oneByOne] = [await freshDatabase(), await freshDatabase()];
    const { after: done } = await batched.db.transaction().execute((trx) => applyInTransaction(trx, handleInventoryCommand, '', commands));
    done();
    for (const command of commands) {
      const { after: each } = await oneByOne.db.transaction().execute((trx) => applyInTransaction(trx, handleInventoryCommand, '', [command]));
      each();
    }
    const [x, y] = [await state(batched), await state(oneByOne)];
    assert.deepEqual(x, y, `round ${round}: the batch and one by one differ`);
    assert.ok(x.replies.length > 0 && x.lines.length > 0, 'the round did something');
    for (const p of x.products) assert.equal(p.available + p.reserved + p.committed, 6, `${p.sku}: stock conserved`);
  }
});
