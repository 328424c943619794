import type { Kysely, Selectable } from 'kysely';
import type { FailureReason, OrderStatus } from '@oms/contracts';
import type { NotificationDb, NotificationsTable } from './schema.ts';

export type NotificationRow = Selectable<NotificationsTable>;

/** True when recorded now; false when this (order, status) was already notified. */
export async function recordNotification(
  db: Kysely<NotificationDb>,
  n: { orderId: string; userId: string; status: OrderStatus; message: string; reasons: FailureReason[] },
): Promise<boolean> {
  const row = await db
    .insertInto('notifications')
    .values({ order_id: n.orderId, user_id: n.userId, status: n.status, message: n.message, reasons: JSON.stringify(n.reasons) })
    .onConflict((oc) => oc.columns(['order_id', 'status']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function listNotifications(db: Kysely<NotificationDb>, filter: { orderId?: string; userId?: string; afterId?: number; limit: number }): Promise<NotificationRow[]> {
  let q = db.selectFrom('notifications').selectAll();
  if (filter.orderId) q = q.where('order_id', '=', filter.orderId);
  if (filter.userId) q = q.where('user_id', '=', filter.userId);
  if (filter.afterId !== undefined) q = q.where('id', '>', filter.afterId);
  return q.orderBy('id').limit(filter.limit).execute();
}
