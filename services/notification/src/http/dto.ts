import Type, { type Static } from 'typebox';
import { Page, pageQueryFields } from '@oms/platform';
import { FailureReason, OrderStatusSchema } from '@oms/contracts';
import type { NotificationRow } from '../db/notifications.ts';

export const ListNotificationsQuery = Type.Object(
  {
    orderId: Type.Optional(Type.String({ format: 'uuid' })),
    ...pageQueryFields,
  },
  { additionalProperties: false },
);
export const NotificationDto = Type.Object({
  id: Type.Integer(),
  orderId: Type.String(),
  userId: Type.String(),
  status: OrderStatusSchema,
  message: Type.String(),
  reasons: Type.Array(FailureReason),
  createdAt: Type.String(),
});
export type NotificationDto = Static<typeof NotificationDto>;
export const NotificationPage = Page(NotificationDto);

/** Row → API shape (the seed's MapStruct mapper role). */
export function toNotificationDto(row: NotificationRow): NotificationDto {
  return {
    id: row.id,
    orderId: row.order_id,
    userId: row.user_id,
    status: row.status,
    message: row.message,
    reasons: row.reasons,
    createdAt: row.created_at.toISOString(),
  };
}
