import Type from 'typebox';
import type { Kysely } from 'kysely';
import { Money } from '@oms/contracts';
import { AppError, type HttpServer } from '@oms/platform';
import { findAccount, upsertAccount } from '../db/payments.ts';
import type { PaymentDb } from '../db/schema.ts';

const AccountBody = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 64 }), creditLimit: Money }, { additionalProperties: false });
const AccountParams = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 64 }) });
const AccountDto = Type.Object({ userId: Type.String(), creditLimit: Money, held: Money, available: Money });

/** Row → API shape (the seed's mapper role). */
function toDto(row: { user_id: string; credit_limit: number; held: number; currency: string }) {
  const money = (amount: number) => ({ amount, currency: row.currency });
  return { userId: row.user_id, creditLimit: money(row.credit_limit), held: money(row.held), available: money(row.credit_limit - row.held) };
}

export function paymentRoutes(app: HttpServer, db: Kysely<PaymentDb>): void {
  app.post('/api/payments/accounts', { schema: { body: AccountBody, response: { 200: AccountDto } } }, async (request) => {
    try {
      return toDto(await upsertAccount(db, request.body.userId, request.body.creditLimit));
    } catch (error) {
      // The check (held <= credit_limit) refuses a limit below what is already held.
      if ((error as { code?: string }).code === '23514') throw new AppError('VALIDATION_FAILED', 'the credit limit is below what is already held');
      throw error;
    }
  });
  app.get('/api/payments/accounts/:userId', { schema: { params: AccountParams, response: { 200: AccountDto } } }, async (request) => {
    const row = await findAccount(db, request.params.userId);
    if (!row) throw new AppError('ACCOUNT_NOT_FOUND', `no payment account for user ${request.params.userId}`);
    return toDto(row);
  });
}
