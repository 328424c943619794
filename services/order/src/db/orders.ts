import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import { olderThan, type TimeIdPosition } from '@oms/platform';
import type { Contact, FailureReason, OrderStatus } from '@oms/contracts';
import type { OrderDb, OrderItem, OrdersTable } from './schema.ts';

export type OrderRow = Selectable<OrdersTable>;
export interface HistoryEntry {
  status: OrderStatus;
  reason: string | null;
  at: Date;
}

/** An order as it will be inserted: the row a successful insert returns. */
export function newOrderRow(
  order: { id: string; userId: string; placedBy: string; items: OrderItem[]; idempotencyKey: string | null; requestHash: string | null },
  now: Date,
): OrderRow {
  return {
    id: order.id,
    user_id: order.userId,
    placed_by: order.placedBy,
    status: 'CREATED',
    items: order.items,
    total_amount: null,
    total_currency: null,
    failure_reasons: [],
    idempotency_key: order.idempotencyKey,
    request_hash: order.requestHash,
    contact: null,
    created_at: now,
    updated_at: now,
  };
}

/**
 * Places several orders in one statement (one round trip, one commit): each order unless its
 * caller's idempotency key is taken (by an earlier order, or by one before it in this batch),
 * and, for each that went in, its CREATED history entry and its rows in the `dependents`, inserts
 * that join the CTE `placed`. Returns, per order in the order given, the inserted row or undefined.
 */
export async function placeOrders(db: Kysely<OrderDb>, orders: readonly OrderRow[], dependents: readonly RawBuilder<unknown>[]): Promise<(OrderRow | undefined)[]> {
  const more = dependents.map((d, i) => sql`, ${sql.raw(`dependent_${i}`)} as (${d})`);
  const { rows } = await sql<OrderRow>`
    with placed as (
      insert into orders (id, user_id, placed_by, status, items, failure_reasons, idempotency_key, request_hash, created_at, updated_at)
      select o.id, o.user_id, o.placed_by, 'CREATED', o.items::jsonb, '[]'::jsonb, o.idempotency_key, o.request_hash, o.created_at, o.created_at
        from unnest(${orders.map((o) => o.id)}::uuid[], ${orders.map((o) => o.user_id)}::text[], ${orders.map((o) => o.placed_by)}::text[],
                    ${orders.map((o) => JSON.stringify(o.items))}::text[], ${orders.map((o) => o.idempotency_key)}::text[],
                    ${orders.map((o) => o.request_hash)}::text[], ${orders.map((o) => o.created_at)}::timestamptz[])
             with ordinality as o(id, user_id, placed_by, items, idempotency_key, request_hash, created_at, n)
       order by o.n
      on conflict (placed_by, idempotency_key) do nothing
      returning *
    ), history as (
      insert into order_history (order_id, status, reason, at) select id, status, null, created_at from placed
    )${sql.join(more, sql``)}
    select * from placed`.execute(db);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return orders.map((o) => byId.get(o.id));
}

/** The order `placedBy` placed with this Idempotency-Key (keys are scoped to their caller). */
export async function findByIdempotencyKey(db: Kysely<OrderDb>, placedBy: string, key: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('placed_by', '=', placedBy).where('idempotency_key', '=', key).executeTakeFirst();
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

/** Sets the priced lines and total of several orders in one statement. */
export async function setPricings(db: Kysely<OrderDb>, pricings: readonly { id: string; items: OrderItem[]; total: { amount: number; currency: string } }[]): Promise<void> {
  if (pricings.length === 0) return;
  await sql`
    update orders o set items = p.items::jsonb, total_amount = p.amount, total_currency = p.currency
      from unnest(${pricings.map((p) => p.id)}::uuid[], ${pricings.map((p) => JSON.stringify(p.items))}::text[],
                  ${pricings.map((p) => p.total.amount)}::bigint[], ${pricings.map((p) => p.total.currency)}::text[]) as p(id, items, amount, currency)
     where o.id = p.id`.execute(db);
}

/** Records the customers' contacts the user step answered with, in one statement. */
export async function setContacts(db: Kysely<OrderDb>, contacts: readonly { id: string; contact: Contact }[]): Promise<void> {
  if (contacts.length === 0) return;
  await sql`
    update orders o set contact = c.contact
      from unnest(${contacts.map((c) => c.id)}::uuid[], ${contacts.map((c) => JSON.stringify(c.contact))}::jsonb[]) as c(id, contact)
     where o.id = c.id`.execute(db);
}

/** Several orders by id, in one statement. */
export async function findOrders(db: Kysely<OrderDb>, ids: readonly string[]): Promise<Map<string, OrderRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('orders').selectAll().where('id', '=', sql<string>`any(${[...ids]}::uuid[])`).execute();
  return new Map(rows.map((r) => [r.id, r]));
}

export interface ListFilter {
  userId?: string;
  status?: OrderStatus;
  /** Orders with a line of this SKU. */
  sku?: string;
  /** Placed in [from, to). */
  from?: Date;
  to?: Date;
  limit: number;
  after?: TimeIdPosition | undefined;
}

/** Newest first; keyset pagination on (created_at, id) so pages stay stable while orders arrive. */
export async function listOrders(db: Kysely<OrderDb>, filter: ListFilter): Promise<OrderRow[]> {
  let q = db.selectFrom('orders').selectAll();
  if (filter.userId) q = q.where('user_id', '=', filter.userId);
  if (filter.status) q = q.where('status', '=', filter.status);
  // Containment: the line may have more fields (its price) than the SKU asked for.
  if (filter.sku) q = q.where(sql<boolean>`items @> ${JSON.stringify([{ sku: filter.sku }])}::jsonb`);
  if (filter.from) q = q.where('created_at', '>=', filter.from);
  if (filter.to) q = q.where('created_at', '<', filter.to);
  if (filter.after) {
    const after = filter.after;
    q = q.where(olderThan('created_at', after));
  }
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
}

/** Of the given orders (id → a status read earlier), those whose status is now another: one statement for any number. */
export async function ordersChanged(db: Kysely<OrderDb>, seen: ReadonlyMap<string, string>): Promise<string[]> {
  if (seen.size === 0) return [];
  const { rows } = await sql<{ id: string }>`
    select o.id from unnest(${[...seen.keys()]}::uuid[], ${[...seen.values()]}::text[]) as w(id, status)
      join orders o on o.id = w.id
     where o.status <> w.status`.execute(db);
  return rows.map((r) => r.id);
}
