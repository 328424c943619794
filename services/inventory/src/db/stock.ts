import { sql, type Kysely } from 'kysely';
import type { OrderLine } from '@oms/contracts';
import { mergeLines, planReservation, type StockLevel } from '../domain/reservation.ts';
import type { InventoryDb, ReservationReply, ReservationState } from './schema.ts';

// Every function here runs inside the consumer's transaction. Product rows are always locked in
// SKU order, so concurrent orders never deadlock on each other.

async function lockProducts(trx: Kysely<InventoryDb>, skus: readonly string[]) {
  if (skus.length === 0) return [];
  return trx
    .selectFrom('products')
    .select(['sku', 'available', 'price_amount', 'currency'])
    .where('sku', 'in', [...skus])
    .orderBy('sku')
    .forUpdate()
    .execute();
}

/** Adds the deltas to the given SKUs' counters in one statement. */
async function moveStock(trx: Kysely<InventoryDb>, moves: readonly { sku: string; available: number; reserved: number; committed: number }[]): Promise<void> {
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

/** Reserves every line or none; the first answer for an order is kept and repeated. */
export async function reserve(trx: Kysely<InventoryDb>, orderId: string, lines: readonly OrderLine[]): Promise<ReservationReply> {
  const earlier = await trx.selectFrom('reservation_results').select('result').where('order_id', '=', orderId).forUpdate().executeTakeFirst();
  if (earlier) return earlier.result;

  const merged = mergeLines(lines);
  const rows = await lockProducts(trx, merged.map((l) => l.sku));
  const stock = new Map<string, StockLevel>(rows.map((r) => [r.sku, { sku: r.sku, available: r.available, price: { amount: r.price_amount, currency: r.currency } }]));
  const plan = planReservation(merged, stock);
  let reply: ReservationReply;
  if (plan.ok) {
    await moveStock(trx, plan.lines.map((l) => ({ sku: l.sku, available: -l.quantity, reserved: l.quantity, committed: 0 })));
    await trx
      .insertInto('reservations')
      .values(plan.lines.map((l) => ({ order_id: orderId, sku: l.sku, quantity: l.quantity, unit_price: l.unitPrice.amount, currency: l.unitPrice.currency, state: 'RESERVED' as const })))
      .execute();
    reply = { ok: true, reasons: [], lines: plan.lines, total: plan.total };
  } else {
    reply = { ok: false, reasons: plan.reasons, lines: [], total: null };
  }
  await trx.insertInto('reservation_results').values({ order_id: orderId, result: JSON.stringify(reply) }).execute();
  return reply;
}

/**
 * Moves this order's stock: RELEASED gives back what is reserved or committed (a cancel after
 * READY_FOR_DELIVERY returns committed stock); COMMITTED turns what is reserved into committed.
 * Returns how many lines moved.
 */
async function settle(trx: Kysely<InventoryDb>, orderId: string, to: 'RELEASED' | 'COMMITTED'): Promise<number> {
  const from: ReservationState[] = to === 'RELEASED' ? ['RESERVED', 'COMMITTED'] : ['RESERVED'];
  const held = await trx.selectFrom('reservations').select(['sku', 'quantity', 'state']).where('order_id', '=', orderId).where('state', 'in', from).orderBy('sku').execute();
  if (held.length === 0) return 0;
  await lockProducts(trx, held.map((h) => h.sku));
  await trx.updateTable('reservations').set({ state: to }).where('order_id', '=', orderId).where('state', 'in', from).execute();
  await moveStock(
    trx,
    held.map((h) =>
      to === 'COMMITTED'
        ? { sku: h.sku, available: 0, reserved: -h.quantity, committed: h.quantity }
        : h.state === 'RESERVED'
          ? { sku: h.sku, available: h.quantity, reserved: -h.quantity, committed: 0 }
          : { sku: h.sku, available: h.quantity, reserved: 0, committed: -h.quantity },
    ),
  );
  return held.length;
}

/** Gives back what the order holds. Idempotent; a release before any reserve blocks that reserve. */
export async function release(trx: Kysely<InventoryDb>, orderId: string): Promise<boolean> {
  await trx
    .insertInto('reservation_results')
    .values({ order_id: orderId, result: JSON.stringify({ ok: false, reasons: [], lines: [], total: null } satisfies ReservationReply) })
    .onConflict((oc) => oc.column('order_id').doNothing())
    .execute();
  return (await settle(trx, orderId, 'RELEASED')) > 0;
}

/** The order is ready: its reservation becomes committed stock. Idempotent. */
export async function commit(trx: Kysely<InventoryDb>, orderId: string): Promise<boolean> {
  return (await settle(trx, orderId, 'COMMITTED')) > 0;
}
