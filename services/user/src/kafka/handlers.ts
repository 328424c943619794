import { isMessage, UserValidated, ValidateUser } from '@oms/contracts';
import type { MessageHandler } from '@oms/platform';
import type { UserDb } from '../db/schema.ts';
import { findUser } from '../db/users.ts';
import { validateUserForOrder } from '../domain/validation.ts';

/** Answers ValidateUser commands; anything else on the topic is not ours and is ignored. */
export const handleUserCommand: MessageHandler<UserDb> = async (ctx) => {
  const { trx, message } = ctx;
  if (!isMessage(message, ValidateUser)) return;
  const user = await findUser(trx, message.payload.userId);
  const reasons = validateUserForOrder(message.payload.userId, user);
  ctx.send(UserValidated, { ok: reasons.length === 0, reasons });
};
