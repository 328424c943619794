import { sql, type Kysely } from 'kysely';
import type { OrderLine } from '@oms/contracts';
import { mergeLines, planReservation, type StockLevel } from '../domain/reservation.ts';
import { reservationMoves, settledFrom, settlementMoves, type Settlement, type StockMove } from '../domain/settlement.ts';
import type { InventoryDb, ReservationReply } from './schema.ts';

// Every function here runs inside the consumer's transaction (never the pool), so its effects,
// the inbox entry and the reply in the outbox commit or roll back together. A batch first locks
// every product row it will touch, sorted by SKU (lockBatchProducts); then each command takes its
// order's answer row and reservation rows (one order's commands come from one partition, so one
// consumer), and the product rows it already holds: batches never deadlock on each other.

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

/**
 * Locks, sorted by SKU, the products of `skus` and of the reservations the orders `settling` hold:
 * a whole batch's product locks in one global order, before any message of it is applied.
 */
export async function lockBatchProducts(trx: Kysely<InventoryDb>, skus: ReadonlySet<string>, settling: readonly string[]): Promise<void> {
  const all = new Set(skus);
  if (settling.length > 0) {
    const held = await trx.selectFrom('reservations').select('sku').distinct().where('order_id', 'in', [...settling]).execute();
    for (const r of held) all.add(r.sku);
  }
  if (all.size > 0) await lockProducts(trx, [...all]);
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

const refusal: ReservationReply = { ok: false, reasons: [], lines: [], total: null };

/**
 * Reserves every line or none. The first answer for an order is stored and repeated: a reserve
 * that comes again (redelivered under a new message id) changes nothing, and one that comes after
 * the order's release finds the refusal that release stored.
 */
export async function reserve(trx: Kysely<InventoryDb>, orderId: string, lines: readonly OrderLine[]): Promise<ReservationReply> {
  // Claim the order's answer row first: a concurrent release or reserve of this order waits on it,
  // and if another one claimed it, ON CONFLICT waited for that one to commit, so its answer is final.
  const claimed = await trx
    .insertInto('reservation_results')
    .values({ order_id: orderId, result: JSON.stringify(refusal) })
    .onConflict((oc) => oc.column('order_id').doNothing())
    .returning('order_id')
    .executeTakeFirst();
  if (!claimed) return (await trx.selectFrom('reservation_results').select('result').where('order_id', '=', orderId).executeTakeFirstOrThrow()).result;

  const merged = mergeLines(lines);
  const rows = await lockProducts(trx, merged.map((l) => l.sku));
  const stock = new Map<string, StockLevel>(rows.map((r) => [r.sku, { sku: r.sku, available: r.available, price: { amount: r.price_amount, currency: r.currency } }]));
  const plan = planReservation(merged, stock);
  let reply: ReservationReply;
  if (plan.ok) {
    await moveStock(trx, reservationMoves(plan.lines));
    await trx
      .insertInto('reservations')
      .values(plan.lines.map((l) => ({ order_id: orderId, sku: l.sku, quantity: l.quantity, unit_price: l.unitPrice.amount, currency: l.unitPrice.currency, state: 'RESERVED' as const })))
      .execute();
    reply = { ok: true, reasons: [], lines: plan.lines, total: plan.total };
  } else {
    reply = { ok: false, reasons: plan.reasons, lines: [], total: null };
  }
  await trx.updateTable('reservation_results').set({ result: JSON.stringify(reply) }).where('order_id', '=', orderId).execute();
  return reply;
}

/** Settles what this order holds; returns how many lines moved (0 when already settled). */
async function settle(trx: Kysely<InventoryDb>, orderId: string, to: Settlement): Promise<number> {
  // Locked, so a concurrent settle of the same order waits and then sees the lines already moved.
  const held = await trx
    .selectFrom('reservations')
    .select(['sku', 'quantity', 'state'])
    .where('order_id', '=', orderId)
    .where('state', 'in', settledFrom(to))
    .orderBy('sku')
    .forUpdate()
    .execute();
  if (held.length === 0) return 0;
  await lockProducts(trx, held.map((h) => h.sku));
  await trx.updateTable('reservations').set({ state: to }).where('order_id', '=', orderId).where('state', 'in', settledFrom(to)).execute();
  await moveStock(trx, settlementMoves(held, to));
  return held.length;
}

/**
 * Gives back what the order holds, reserved or committed. Idempotent. It also stores a refusal as
 * the order's reservation answer when there is none yet, so a reserve arriving after its release
 * reserves nothing.
 */
export async function release(trx: Kysely<InventoryDb>, orderId: string): Promise<boolean> {
  await trx
    .insertInto('reservation_results')
    .values({ order_id: orderId, result: JSON.stringify(refusal) })
    .onConflict((oc) => oc.column('order_id').doNothing())
    .execute();
  return (await settle(trx, orderId, 'RELEASED')) > 0;
}

/** The order is ready: its reservation becomes committed stock. Idempotent. */
export async function commit(trx: Kysely<InventoryDb>, orderId: string): Promise<boolean> {
  return (await settle(trx, orderId, 'COMMITTED')) > 0;
}
