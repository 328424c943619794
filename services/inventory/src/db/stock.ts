import { sql, type Kysely } from 'kysely';
import { mergeLines, type StockLevel } from '../domain/reservation.ts';
import type { StockMove } from '../domain/settlement.ts';
import { applyStockCommands, type HeldLine, type StockCommand, type StockOutcome } from '../domain/batch.ts';
import type { InventoryDb, ReservationReply } from './schema.ts';

// Every function here runs inside the consumer's transaction (never the pool), so its effects,
// the inbox entry and the reply in the outbox commit or roll back together. A batch first locks
// every product row it will touch, sorted by SKU; then its orders' answer rows and reservation
// rows (one order's commands come from one partition, so one consumer): batches never deadlock
// on each other.

async function lockProducts(trx: Kysely<InventoryDb>, skus: readonly string[]) {
  if (skus.length === 0) return [];
  // ORDER BY runs below the row locking, so the rows are locked in SKU order.
  return trx
    .selectFrom('products')
    .select(['sku', 'available', 'price_amount', 'currency'])
    .where('sku', 'in', [...skus])
    .orderBy('sku')
    .forUpdate()
    .execute();
}

/** Adds the moves to the SKUs' counters in one statement; the rows are already locked. */
async function moveStock(trx: Kysely<InventoryDb>, moves: readonly StockMove[]): Promise<void> {
  if (moves.length === 0) return;
  await sql`
    update products p
       set available = p.available + m.available, reserved = p.reserved + m.reserved,
           committed = p.committed + m.committed, updated_at = now()
      from unnest(${moves.map((m) => m.sku)}::text[], ${moves.map((m) => m.available)}::int[],
                  ${moves.map((m) => m.reserved)}::int[], ${moves.map((m) => m.committed)}::int[])
           as m(sku, available, reserved, committed)
     where p.sku = m.sku`.execute(trx);
}

/**
 * A whole batch of stock commands in a few statements whatever its size: the products it touches
 * locked (in SKU order) and read in one, the reserve and release orders' answer rows claimed in
 * one (a concurrent command for the same order waits on its row, as one at a time would), stored
 * answers and held lines read in one each; then `applyStockCommands` decides every command in order
 * (pure), and the counters, new lines, changed lines and new answers are written in one statement
 * each. Returns each command's outcome, in order.
 */
export async function applyStockBatch(trx: Kysely<InventoryDb>, commands: readonly StockCommand[]): Promise<StockOutcome[]> {
  if (commands.length === 0) return [];
  const ids = (kinds: readonly StockCommand['kind'][]) => [...new Set(commands.filter((c) => kinds.includes(c.kind)).map((c) => c.orderId))];
  const settling = ids(['release', 'commit']);
  const answering = ids(['reserve', 'release']);
  const reserveSkus = new Set(commands.flatMap((c) => (c.kind === 'reserve' ? mergeLines(c.lines).map((l) => l.sku) : [])));

  // Products first, in SKU order (the batch's only shared rows): those reserved and those held.
  const heldSkus = settling.length === 0 ? [] : (await sql<{ sku: string }>`select distinct sku from reservations where order_id = any(${settling}::uuid[])`.execute(trx)).rows.map((r) => r.sku);
  const products = await lockProducts(trx, [...new Set([...reserveSkus, ...heldSkus])]);
  const stock = new Map<string, StockLevel>(products.map((r) => [r.sku, { sku: r.sku, available: r.available, price: { amount: r.price_amount, currency: r.currency } }]));

  const answers = new Map<string, ReservationReply | null>();
  if (answering.length > 0) {
    const { rows: claimed } = await sql<{ order_id: string }>`
      insert into reservation_results (order_id, result)
      select id, ${JSON.stringify(refusal)}::jsonb from unnest(${answering}::uuid[]) as t(id) order by id
      on conflict (order_id) do nothing
      returning order_id`.execute(trx);
    for (const r of claimed) answers.set(r.order_id, null);
    const stored = answering.filter((id) => !answers.has(id));
    if (stored.length > 0) {
      const rows = await trx.selectFrom('reservation_results').select(['order_id', 'result']).where('order_id', '=', sql<string>`any(${stored}::uuid[])`).execute();
      for (const r of rows) answers.set(r.order_id, r.result);
    }
  }
  const held = new Map<string, HeldLine[]>();
  if (settling.length > 0) {
    const rows = await trx
      .selectFrom('reservations')
      .select(['order_id', 'sku', 'quantity', 'unit_price', 'currency', 'state'])
      .where('order_id', '=', sql<string>`any(${settling}::uuid[])`)
      .orderBy('order_id')
      .orderBy('sku')
      .forUpdate()
      .execute();
    for (const r of rows) held.set(r.order_id, [...(held.get(r.order_id) ?? []), { sku: r.sku, quantity: r.quantity, unitPrice: r.unit_price, currency: r.currency, state: r.state }]);
  }

  const effects = applyStockCommands(commands, { stock, answers, held });
  await moveStock(trx, sumMoves(effects.moves));
  if (effects.newLines.length > 0) {
    await trx
      .insertInto('reservations')
      .values(effects.newLines.map(({ orderId, line }) => ({ order_id: orderId, sku: line.sku, quantity: line.quantity, unit_price: line.unitPrice, currency: line.currency, state: line.state })))
      .execute();
  }
  if (effects.changedLines.length > 0) {
    await sql`
      update reservations r set state = v.state
        from unnest(${effects.changedLines.map((l) => l.orderId)}::uuid[], ${effects.changedLines.map((l) => l.sku)}::text[], ${effects.changedLines.map((l) => l.state)}::text[]) as v(order_id, sku, state)
       where r.order_id = v.order_id and r.sku = v.sku`.execute(trx);
  }
  if (effects.answers.length > 0) {
    await sql`
      update reservation_results r set result = v.result::jsonb
        from unnest(${effects.answers.map((a) => a.orderId)}::uuid[], ${effects.answers.map((a) => JSON.stringify(a.reply))}::text[]) as v(order_id, result)
       where r.order_id = v.order_id`.execute(trx);
  }
  return effects.outcomes;
}

const refusal: ReservationReply = { ok: false, reasons: [], lines: [], total: null };

/** One move per SKU: the batch's moves added up. */
function sumMoves(moves: readonly StockMove[]): StockMove[] {
  const bySku = new Map<string, StockMove>();
  for (const m of moves) {
    const t = bySku.get(m.sku) ?? { sku: m.sku, available: 0, reserved: 0, committed: 0 };
    bySku.set(m.sku, { sku: m.sku, available: t.available + m.available, reserved: t.reserved + m.reserved, committed: t.committed + m.committed });
  }
  return [...bySku.values()];
}
