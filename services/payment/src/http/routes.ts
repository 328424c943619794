import Type from 'typebox';
import type { Kysely } from 'kysely';
import { Money } from '@oms/contracts';
import { actor, AppError, decodeCursor, mayAccess, Page, pageOf, pageQueryFields, type HttpServer } from '@oms/platform';
import { findAccount, listAccounts, upsertAccount } from '../db/payments.ts';
import type { PaymentDb } from '../db/schema.ts';

const AccountBody = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 64 }), creditLimit: Money }, { additionalProperties: false });
const AccountParams = Type.Object({ userId: Type.String({ minLength: 1, maxLength: 64 }) });
const AccountDto = Type.Object({ userId: Type.String(), creditLimit: Money, held: Money, available: Money });
/** The operator's account list, by user id; `userId` names one user's account. */
const ListAccountsQuery = Type.Object({ userId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), ...pageQueryFields }, { additionalProperties: false });
const AccountPage = Page(AccountDto);

/** Row → API shape (the seed's mapper role). */
function toDto(row: { user_id: string; credit_limit: number; held: number; currency: string }) {
  const money = (amount: number) => ({ amount, currency: row.currency });
  return { userId: row.user_id, creditLimit: money(row.credit_limit), held: money(row.held), available: money(row.credit_limit - row.held) };
}

export function paymentRoutes(app: HttpServer, db: Kysely<PaymentDb>): void {
  app.post('/api/payments/accounts', { config: { auth: 'operator' }, schema: { body: AccountBody, response: { 200: AccountDto } } }, async (request) => {
    const { userId, creditLimit } = request.body;
    let row;
    try {
      row = await upsertAccount(db, userId, creditLimit);
    } catch (error) {
      // The check (held <= credit_limit) refuses a limit below what is already held.
      if ((error as { code?: string }).code === '23514') throw new AppError('VALIDATION_FAILED', 'the credit limit is below what is already held');
      throw error;
    }
    if (!row) {
      const held = await findAccount(db, userId);
      throw new AppError('ACCOUNT_CURRENCY_IN_USE', `the account holds ${held?.held ?? 'some'} ${held?.currency ?? ''} for orders; its currency can change once nothing is held`.replace(' ;', ';'));
    }
    request.log.info({ ...actor(request), userId, creditLimit }, 'operator set a credit limit');
    return toDto(row);
  });
  app.get('/api/payments/accounts', { config: { auth: 'operator' }, schema: { querystring: ListAccountsQuery, response: { 200: AccountPage } } }, async (request) => {
    const { userId, limit, cursor } = request.query;
    const afterUserId = cursor ? String(decodeCursor(cursor, ['text'])[0]) : undefined;
    const rows = await listAccounts(db, { userId, afterUserId, limit: limit + 1 });
    const page = pageOf(rows, limit, (last) => [last.user_id]);
    return { items: page.rows.map(toDto), nextCursor: page.nextCursor };
  });
  // A customer reads only their own account; another's answers 404, as an unknown one does.
  app.get('/api/payments/accounts/:userId', { config: { auth: 'authenticated' }, schema: { params: AccountParams, response: { 200: AccountDto } } }, async (request) => {
    const row = mayAccess(request.principal, request.params.userId) ? await findAccount(db, request.params.userId) : undefined;
    if (!row) throw new AppError('ACCOUNT_NOT_FOUND', `no payment account for user ${request.params.userId}`);
    return toDto(row);
  });
}
