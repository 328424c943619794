import { isMessage, UserValidated, ValidateUser } from '@oms/contracts';
import { batchHandler, type BatchContext, type MessageHandler } from '@oms/platform';
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
    const user = users.get(command.payload.userId.toLowerCase());
    const reasons = validateUserForOrder(command.payload.userId, user);
    // A valid user's contact goes with the answer, for the order's notifications.
    const contact = user && reasons.length === 0 ? { contact: { name: user.name, email: user.email_notifications ? user.email : null } } : {};
    send(command, UserValidated, { ok: reasons.length === 0, reasons, ...contact });
  }
}

export const handleUserCommand: MessageHandler<UserDb> = batchHandler(validateBatch);
