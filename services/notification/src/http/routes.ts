import type { Kysely } from 'kysely';
import { decodeCursor, pageOf, principalOf, type HttpServer } from '@oms/platform';
import { listNotifications } from '../db/notifications.ts';
import type { NotificationDb } from '../db/schema.ts';
import { ListNotificationsQuery, NotificationPage, toNotificationDto } from './dto.ts';

export function notificationRoutes(app: HttpServer, db: Kysely<NotificationDb>): void {
  // Oldest first by id: ids only grow, so a cursor never skips or repeats a record.
  app.get('/api/notifications', { config: { auth: 'authenticated' }, schema: { querystring: ListNotificationsQuery, response: { 200: NotificationPage } } }, async (request) => {
    const { orderId, limit, cursor } = request.query;
    const principal = principalOf(request);
    // A customer sees the notifications of their own orders only.
    const userId = principal.role === 'operator' ? undefined : principal.id;
    const afterId = cursor ? Number(decodeCursor(cursor, ['integer'])[0]) : undefined;
    const rows = await listNotifications(db, { orderId, userId, afterId, limit: limit + 1 });
    const page = pageOf(rows, limit, (last) => [last.id]);
    return { items: page.rows.map(toNotificationDto), nextCursor: page.nextCursor };
  });
}
