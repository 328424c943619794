import { isMessage, UserValidated, ValidateUser } from '@oms/contracts';
import type { BatchContext, MessageHandler } from '@oms/platform';
import type { UserDb } from '../db/schema.ts';
import { findUsers } from '../db/users.ts';
import { validateUserForOrder } from '../domain/validation.ts';

/**
 * Answers ValidateUser commands, a whole poll batch at a time: the batch's users are read in one
 * statement. Anything else on the topic is not ours and is ignored.
 */
async function validateBatch({ trx, messages, send }: BatchContext<UserDb>): Promise<void> {
  const commands = messages.filter((m) => isMessage(m, ValidateUser));
  const users = await findUsers(trx, commands.map((m) => m.payload.userId));
  for (const command of commands) {
    // PostgreSQL reads a UUID in either case; so does this lookup.
    const reasons = validateUserForOrder(command.payload.userId, users.get(command.payload.userId.toLowerCase()));
    send(command, UserValidated, { ok: reasons.length === 0, reasons });
  }
}

export const handleUserCommand: MessageHandler<UserDb> = Object.assign(
  // One message (a dead letter's replay) is a batch of one.
  (ctx: Parameters<MessageHandler<UserDb>>[0]) => validateBatch({ trx: ctx.trx, messages: [ctx.message], send: (_cause, d, p, o) => ctx.send(d, p, o), afterCommit: ctx.afterCommit }),
  { applyBatch: validateBatch },
);
