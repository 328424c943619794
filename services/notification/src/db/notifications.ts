import { sql, type Kysely, type Selectable } from 'kysely';
import type { FailureReason, OrderStatus } from '@oms/contracts';
import type { NotificationDb, NotificationsTable } from './schema.ts';

export type NotificationRow = Selectable<NotificationsTable>;

export interface NewNotification {
  orderId: string;
  userId: string;
  status: OrderStatus;
  message: string;
  reasons: FailureReason[];
}

/**
 * Records a batch's notifications in one statement, in the order given; returns those recorded
 * now with their ids (an (order, status) already notified, before or earlier in the batch, is not
 * recorded again).
 */
export async function recordNotifications<N extends NewNotification>(db: Kysely<NotificationDb>, notifications: readonly N[]): Promise<(N & { id: number; createdAt: Date })[]> {
  if (notifications.length === 0) return [];
  const { rows } = await sql<{ id: number; order_id: string; status: string; created_at: Date }>`
    insert into notifications (order_id, user_id, status, message, reasons)
    select order_id, user_id, status, message, reasons
      from unnest(${notifications.map((n) => n.orderId)}::uuid[], ${notifications.map((n) => n.userId)}::text[], ${notifications.map((n) => n.status)}::text[],
                  ${notifications.map((n) => n.message)}::text[], ${notifications.map((n) => JSON.stringify(n.reasons))}::jsonb[])
           with ordinality as t(order_id, user_id, status, message, reasons, n)
     order by n
    on conflict (order_id, status) do nothing
    returning id, order_id, status, created_at`.execute(db);
  const recorded = new Map(rows.map((r) => [`${r.order_id} ${r.status}`, r]));
  // The first of each (order, status) in the batch is the one recorded.
  return notifications.flatMap((n) => {
    const key = `${n.orderId} ${n.status}`;
    const row = recorded.get(key);
    recorded.delete(key);
    return row ? [{ ...n, id: row.id, createdAt: row.created_at }] : [];
  });
}

export async function listNotifications(db: Kysely<NotificationDb>, filter: { orderId?: string; userId?: string; afterId?: number; limit: number }): Promise<NotificationRow[]> {
  let q = db.selectFrom('notifications').selectAll();
  if (filter.orderId) q = q.where('order_id', '=', filter.orderId);
  if (filter.userId) q = q.where('user_id', '=', filter.userId);
  if (filter.afterId !== undefined) q = q.where('id', '>', filter.afterId);
  return q.orderBy('id').limit(filter.limit).execute();
}
