import Type from 'typebox';
import { decodeCursor, encodeCursor, type HttpServer } from '@oms/platform';
import { FailureReason } from '@oms/contracts';
import type { Kysely } from 'kysely';
import { listNotifications, type NotificationRow } from '../db/notifications.ts';
import type { NotificationDb } from '../db/schema.ts';

const Query = Type.Object(
  {
    orderId: Type.Optional(Type.String({ format: 'uuid' })),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
const NotificationDto = Type.Object({
  id: Type.Integer(),
  orderId: Type.String(),
  userId: Type.String(),
  status: Type.String(),
  message: Type.String(),
  reasons: Type.Array(FailureReason),
  createdAt: Type.String(),
});
const Page = Type.Object({ items: Type.Array(NotificationDto), nextCursor: Type.Union([Type.String(), Type.Null()]) });

/** Row → API shape (the seed's mapper role). */
function toDto(row: NotificationRow) {
  return { id: row.id, orderId: row.order_id, userId: row.user_id, status: row.status, message: row.message, reasons: row.reasons, createdAt: row.created_at.toISOString() };
}

export function notificationRoutes(app: HttpServer, db: Kysely<NotificationDb>): void {
  app.get('/api/notifications', { schema: { querystring: Query, response: { 200: Page } } }, async (request) => {
    const { orderId, limit, cursor } = request.query;
    const afterId = cursor ? Number(decodeCursor(cursor, 1)[0]) : undefined;
    const rows = await listNotifications(db, { orderId, afterId, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return { items: page.map(toDto), nextCursor: rows.length > limit ? encodeCursor([page.at(-1)!.id]) : null };
  });
}
