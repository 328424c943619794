import { sql, type Kysely, type Selectable } from 'kysely';
import type { FailureReason, OrderStatus } from '@oms/contracts';
import type { OrderDb, OrderItem, OrdersTable } from './schema.ts';

export type OrderRow = Selectable<OrdersTable>;
export interface HistoryEntry {
  status: OrderStatus;
  reason: string | null;
  at: Date;
}

export interface NewOrder {
  id: string;
  userId: string;
  items: OrderItem[];
  idempotencyKey: string | null;
  requestHash: string | null;
}

/** Inserts the order unless its idempotency key is taken; returns undefined in that case. */
export async function insertOrder(db: Kysely<OrderDb>, order: NewOrder, now: Date): Promise<OrderRow | undefined> {
  return db
    .insertInto('orders')
    .values({
      id: order.id,
      user_id: order.userId,
      status: 'CREATED',
      items: JSON.stringify(order.items),
      failure_reasons: JSON.stringify([]),
      idempotency_key: order.idempotencyKey,
      request_hash: order.requestHash,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findByIdempotencyKey(db: Kysely<OrderDb>, key: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
}

export async function findOrder(db: Kysely<OrderDb>, id: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function historyOf(db: Kysely<OrderDb>, id: string): Promise<HistoryEntry[]> {
  return db.selectFrom('order_history').select(['status', 'reason', 'at']).where('order_id', '=', id).orderBy('id').execute();
}

/** The histories of several orders in one query (a page of orders), each in order. */
export async function historiesOf(db: Kysely<OrderDb>, ids: readonly string[]): Promise<Map<string, HistoryEntry[]>> {
  const byOrder = new Map<string, HistoryEntry[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return byOrder;
  const rows = await db.selectFrom('order_history').select(['order_id', 'status', 'reason', 'at']).where('order_id', 'in', [...ids]).orderBy('id').execute();
  for (const { order_id, ...entry } of rows) byOrder.get(order_id)?.push(entry);
  return byOrder;
}

export async function appendHistory(db: Kysely<OrderDb>, orderId: string, status: OrderStatus, reason: string | null, at: Date): Promise<void> {
  await db.insertInto('order_history').values({ order_id: orderId, status, reason, at }).execute();
}

/** Sets the status and appends the history line in one statement (one round trip on the hot path). */
export async function updateOrderStatus(
  db: Kysely<OrderDb>,
  id: string,
  status: OrderStatus,
  reasons: FailureReason[],
  reason: string | null,
  now: Date,
): Promise<OrderRow> {
  return db
    .with('history', (q) => q.insertInto('order_history').values({ order_id: id, status, reason, at: now }))
    .updateTable('orders')
    .set({ status, failure_reasons: JSON.stringify(reasons), updated_at: now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function setPricing(db: Kysely<OrderDb>, id: string, items: OrderItem[], total: { amount: number; currency: string }): Promise<void> {
  await db
    .updateTable('orders')
    .set({ items: JSON.stringify(items), total_amount: total.amount, total_currency: total.currency })
    .where('id', '=', id)
    .execute();
}

export interface ListFilter {
  userId?: string;
  status?: OrderStatus;
  limit: number;
  after?: { createdAt: string; id: string };
}

/** Newest first; keyset pagination on (created_at, id) so pages stay stable while orders arrive. */
export async function listOrders(db: Kysely<OrderDb>, filter: ListFilter): Promise<OrderRow[]> {
  let q = db.selectFrom('orders').selectAll();
  if (filter.userId) q = q.where('user_id', '=', filter.userId);
  if (filter.status) q = q.where('status', '=', filter.status);
  if (filter.after) {
    const after = filter.after;
    q = q.where(sql<boolean>`(created_at, id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`);
  }
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}
