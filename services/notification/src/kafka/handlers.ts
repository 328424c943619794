import { isMessage, OrderStatusChanged } from '@oms/contracts';
import type { Logger, MessageHandler } from '@oms/platform';
import { recordNotification } from '../db/notifications.ts';
import type { NotificationDb } from '../db/schema.ts';
import { notificationText } from '../domain/message.ts';

/** Records each order status once and logs it as a structured line (the delivery channel for now). */
export function orderEventHandler(logger: Logger): MessageHandler<NotificationDb> {
  return async ({ trx, message, afterCommit }) => {
    if (!isMessage(message, OrderStatusChanged)) return;
    const { status, userId, reasons } = message.payload;
    const text = notificationText(message.orderId, status, reasons);
    const fresh = await recordNotification(trx, { orderId: message.orderId, userId, status, message: text, reasons });
    if (fresh) afterCommit(() => logger.info({ orderId: message.orderId, userId, status, notification: text }, 'order status notification'));
  };
}
