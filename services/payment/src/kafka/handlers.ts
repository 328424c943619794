import { AuthorisePayment, isMessage, PaymentAuthorised, PaymentVoided, VoidPayment } from '@oms/contracts';
import type { MessageHandler } from '@oms/platform';
import { authorise, lockBatchAccounts, voidHold, type AccountDefaults } from '../db/payments.ts';
import type { PaymentDb } from '../db/schema.ts';

/** Authorise and void payment holds; both idempotent per order. */
export function paymentCommandHandler(defaults: AccountDefaults): MessageHandler<PaymentDb> {
  const handler: MessageHandler<PaymentDb> = async (ctx) => {
    const { trx, message } = ctx;
    if (isMessage(message, AuthorisePayment)) {
      ctx.send(PaymentAuthorised, await authorise(trx, message.orderId, message.payload.userId, message.payload.amount, defaults));
    } else if (isMessage(message, VoidPayment)) {
      ctx.send(PaymentVoided, { voided: await voidHold(trx, message.orderId) });
    }
  };
  // A batch's account rows, locked up front in user-id order: the accounts its authorisations
  // charge (made first if new) and those its voids release.
  handler.lockBatch = async (trx, batch) => {
    const charged = new Set<string>();
    const voided: string[] = [];
    for (const message of batch) {
      if (isMessage(message, AuthorisePayment)) charged.add(message.payload.userId);
      else if (isMessage(message, VoidPayment)) voided.push(message.orderId);
    }
    await lockBatchAccounts(trx, charged, voided, defaults);
  };
  return handler;
}
