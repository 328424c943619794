import { AuthorisePayment, isMessage, PaymentAuthorised, PaymentVoided, VoidPayment } from '@oms/contracts';
import { batchHandler, type BatchContext, type DecodedMessage, type MessageHandler } from '@oms/platform';
import { applyPaymentBatch, type AccountDefaults } from '../db/payments.ts';
import type { PaymentDb } from '../db/schema.ts';
import type { PaymentCommand } from '../domain/batch.ts';

function commandOf(message: DecodedMessage): PaymentCommand | undefined {
  if (isMessage(message, AuthorisePayment)) return { kind: 'authorise', orderId: message.orderId, userId: message.payload.userId, amount: message.payload.amount };
  if (isMessage(message, VoidPayment)) return { kind: 'void', orderId: message.orderId };
  return undefined; // not ours
}

/**
 * Authorise and void payment holds, a whole poll batch at a time in a few statements (see
 * applyPaymentBatch); both idempotent per order. A batch locks every account it touches in user-id
 * order, so two instances' batches wait for each other instead of deadlocking.
 */
export function paymentCommandHandler(defaults: AccountDefaults): MessageHandler<PaymentDb> {
  const applyBatch = async ({ trx, messages, send }: BatchContext<PaymentDb>): Promise<void> => {
    const commands = messages.flatMap((message) => {
      const command = commandOf(message);
      return command ? [{ message, command }] : [];
    });
    const outcomes = await applyPaymentBatch(
      trx,
      commands.map((c) => c.command),
      defaults,
    );
    commands.forEach(({ message }, i) => {
      const outcome = outcomes[i]!;
      if (outcome.kind === 'authorise') send(message, PaymentAuthorised, outcome.reply);
      else send(message, PaymentVoided, { voided: outcome.voided });
    });
  };
  return batchHandler(applyBatch);
}
