import type { ColumnType, Generated, JSONColumnType } from 'kysely';
import type { Static } from 'typebox';
import type { PaymentAuthorised } from '@oms/contracts';

export type AuthorisationReply = Static<typeof PaymentAuthorised.payload>;

export interface AccountsTable {
  user_id: string;
  credit_limit: number;
  currency: string;
  held: ColumnType<number, number | undefined, number>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface HoldsTable {
  order_id: string;
  user_id: string;
  amount: number;
  currency: string;
  state: 'HELD' | 'VOIDED';
}

export interface AuthorisationResultsTable {
  order_id: string;
  result: JSONColumnType<AuthorisationReply>;
  at: Generated<Date>;
}

export interface PaymentDb {
  accounts: AccountsTable;
  holds: HoldsTable;
  authorisation_results: AuthorisationResultsTable;
}
