import { isMessage, OrderStatusChanged } from '@oms/contracts';
import { batchHandler, type Logger, type MessageHandler } from '@oms/platform';
import { recordNotifications, type NewNotification } from '../db/notifications.ts';
import type { NotificationDb } from '../db/schema.ts';
import { notificationText } from '../domain/message.ts';

/**
 * Records each order status once, a whole poll batch in one statement, and logs each new one as a
 * structured line once committed (the delivery channel for now).
 */
export function orderEventHandler(logger: Logger): MessageHandler<NotificationDb> {
  return batchHandler(async ({ trx, messages, afterCommit }) => {
    const notifications: NewNotification[] = messages.flatMap((message) => {
      if (!isMessage(message, OrderStatusChanged)) return [];
      const { status, userId, reasons } = message.payload;
      return [{ orderId: message.orderId, userId, status, reasons, message: notificationText(message.orderId, status, reasons) }];
    });
    const fresh = await recordNotifications(trx, notifications);
    afterCommit(() => {
      for (const n of fresh) logger.info({ orderId: n.orderId, userId: n.userId, status: n.status, notification: n.message }, 'order status notification');
    });
  });
}
