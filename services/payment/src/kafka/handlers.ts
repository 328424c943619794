import { AuthorisePayment, isMessage, PaymentAuthorised, PaymentVoided, VoidPayment } from '@oms/contracts';
import type { MessageHandler } from '@oms/platform';
import { authorise, voidHold, type AccountDefaults } from '../db/payments.ts';
import type { PaymentDb } from '../db/schema.ts';

/** Authorise and void payment holds; both idempotent per order. */
export function paymentCommandHandler(defaults: AccountDefaults): MessageHandler<PaymentDb> {
  return async (ctx) => {
    const { trx, message } = ctx;
    if (isMessage(message, AuthorisePayment)) {
      ctx.send(PaymentAuthorised, await authorise(trx, message.orderId, message.payload.userId, message.payload.amount, defaults));
    } else if (isMessage(message, VoidPayment)) {
      ctx.send(PaymentVoided, { voided: await voidHold(trx, message.orderId) });
    }
  };
}
