import { isMessage, OrderStatusChanged } from '@oms/contracts';
import { batchHandler, type Logger, type MessageHandler } from '@oms/platform';
import { recordNotifications, type NewNotification } from '../db/notifications.ts';
import type { NotificationDb } from '../db/schema.ts';
import { queueDeliveries } from '../db/webhooks.ts';
import { deliveriesQueued } from '../delivery/webhook-sender.ts';
import { notificationText } from '../domain/message.ts';
import { eventBody, eventId, eventTypesFor } from '../domain/webhooks.ts';

/**
 * Records each order status once, a whole poll batch in one statement, and queues its webhook
 * deliveries in the same transaction (an outbox of deliveries: a crash loses none, a redelivered
 * event queues none again). The sender is woken once they have committed; each new notification
 * is also logged as a structured line.
 */
export function orderEventHandler(logger: Logger): MessageHandler<NotificationDb> {
  return batchHandler(async ({ trx, messages, afterCommit }) => {
    const notifications: (NewNotification & { at: string })[] = messages.flatMap((message) => {
      if (!isMessage(message, OrderStatusChanged)) return [];
      const { status, userId, reasons, at } = message.payload;
      return [{ orderId: message.orderId, userId, status, reasons, at, message: notificationText(message.orderId, status, reasons) }];
    });
    const fresh = await recordNotifications(trx, notifications);
    const queued = await queueDeliveries(
      trx,
      fresh.flatMap((n) =>
        eventTypesFor(n.status).map((type) => ({
          eventId: eventId(n.id, type),
          eventType: type,
          orderId: n.orderId,
          userId: n.userId,
          body: eventBody(type, { orderId: n.orderId, userId: n.userId, status: n.status, reasons: n.reasons, message: n.message, at: n.at }),
        })),
      ),
    );
    afterCommit(() => {
      for (const n of fresh) logger.info({ orderId: n.orderId, userId: n.userId, status: n.status, notification: n.message }, 'order status notification');
      if (queued > 0) deliveriesQueued();
    });
  });
}
