import { sql, type Kysely } from 'kysely';
import type { OrderStatus } from '@oms/contracts';
import type { OrderDb } from './schema.ts';

/** A position in the status feed: (writing transaction, history id). */
export interface FeedCursor {
  tx: bigint;
  id: number;
}

export interface FeedEntry {
  cursor: FeedCursor;
  orderId: string;
  userId: string;
  status: OrderStatus;
  reason: string | null;
  at: Date;
}

export const feedStart: FeedCursor = { tx: 0n, id: 0 };

export function compareCursors(a: FeedCursor, b: FeedCursor): number {
  return a.tx === b.tx ? a.id - b.id : a.tx < b.tx ? -1 : 1;
}

/** `<tx>-<id>`, the SSE event id. */
export const formatCursor = (c: FeedCursor) => `${c.tx}-${c.id}`;
export function parseCursor(text: string): FeedCursor | undefined {
  const m = /^(\d{1,20})-(\d{1,18})$/.exec(text.trim());
  return m ? { tx: BigInt(m[1]!), id: Number(m[2]) } : undefined;
}

/** Where "now" is: every row after it is committed later than this call (or not yet). */
export async function feedNow(db: Kysely<OrderDb>): Promise<FeedCursor> {
  const { rows } = await sql<{ xmin: string }>`select pg_snapshot_xmin(pg_current_snapshot())::text as xmin`.execute(db);
  // Rows of transaction xmin itself are not visible yet: start just before it.
  return { tx: BigInt(rows[0]!.xmin) - 1n, id: Number.MAX_SAFE_INTEGER };
}

/**
 * Status changes after `after`, in commit order, only of transactions that have ended (older than
 * every running one), optionally of one order or one user's orders.
 */
export async function readFeed(db: Kysely<OrderDb>, after: FeedCursor, filter: { orderId?: string; userId?: string }, limit: number): Promise<FeedEntry[]> {
  const { rows } = await sql<{ tx: string; id: number; order_id: string; user_id: string; status: OrderStatus; reason: string | null; at: Date }>`
    select h.tx::text as tx, h.id, h.order_id, o.user_id, h.status, h.reason, h.at
      from order_history h join orders o on o.id = h.order_id
     where (h.tx, h.id) > (${after.tx.toString()}::xid8, ${after.id}::bigint)
       and h.tx < pg_snapshot_xmin(pg_current_snapshot())
       ${filter.orderId ? sql`and h.order_id = ${filter.orderId}::uuid` : sql``}
       ${filter.userId ? sql`and o.user_id = ${filter.userId}` : sql``}
     order by h.tx, h.id
     limit ${limit}`.execute(db);
  return rows.map((r) => ({ cursor: { tx: BigInt(r.tx), id: r.id }, orderId: r.order_id, userId: r.user_id, status: r.status, reason: r.reason, at: r.at }));
}
