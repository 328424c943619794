import { isMessage, OrderStatusChanged, type Contact } from '@oms/contracts';
import { batchHandler, logFields, messageContext, type Logger, type MessageHandler } from '@oms/platform';
import { recordNotifications, type NewNotification } from '../db/notifications.ts';
import type { NotificationDb } from '../db/schema.ts';
import { queueDeliveries } from '../db/webhooks.ts';
import { queueEmails, rememberContacts } from '../db/emails.ts';
import { deliveriesQueued } from '../delivery/delivery-loop.ts';
import { emailedStatuses, orderEmail } from '../domain/email.ts';
import { notificationText } from '../domain/message.ts';
import { eventBody, eventId, eventTypesFor } from '../domain/webhooks.ts';

/**
 * Records each order status once, a whole poll batch in one statement, and queues its webhook
 * deliveries in the same transaction (an outbox of deliveries: a crash loses none, a redelivered
 * event queues none again), and the customer's e-mail for an outcome likewise. The senders are
 * woken once they have committed; each new notification is also logged as a structured line.
 */
export function orderEventHandler(logger: Logger, opts: { emails: boolean }): MessageHandler<NotificationDb> {
  return batchHandler(async ({ trx, messages, afterCommit }) => {
    const notifications: (NewNotification & { at: string; contact: Contact | null; log: ReturnType<typeof logFields> })[] = messages.flatMap((message) => {
      if (!isMessage(message, OrderStatusChanged)) return [];
      const { status, userId, reasons, at, contact } = message.payload;
      // The message's order id and trace id, for its log line (a batch serves many orders at once).
      const log = logFields(messageContext(message));
      return [{ orderId: message.orderId, userId, status, reasons, at, contact: contact ?? null, message: notificationText(message.orderId, status, reasons), log }];
    });
    const fresh = await recordNotifications(trx, notifications);
    // Addresses for mails that are not about an order (a disabled endpoint's alert): only kept when mails go out.
    if (opts.emails) {
      await rememberContacts(
        trx,
        notifications.flatMap((n) => (n.contact ? [{ userId: n.userId, name: n.contact.name, email: n.contact.email, at: n.at }] : [])),
      );
    }
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
    // E-mail to the customer on the outcomes, when their address is known and they have not turned e-mails off.
    const mailed = !opts.emails
      ? 0
      : await queueEmails(
          trx,
          fresh.flatMap((n) => {
            if (!emailedStatuses.includes(n.status) || !n.contact?.email) return [];
            const mail = orderEmail({ orderId: n.orderId, name: n.contact.name, status: n.status, reasons: n.reasons });
            return [{ notificationId: n.id, orderId: n.orderId, recipient: n.contact.email, ...mail }];
          }),
        );
    afterCommit(() => {
      for (const n of fresh) logger.info({ ...n.log, orderId: n.orderId, userId: n.userId, status: n.status, notification: n.message }, 'order status notification');
      if (queued + mailed > 0) deliveriesQueued();
    });
  });
}
