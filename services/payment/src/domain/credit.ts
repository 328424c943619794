import type { FailureReason, Money } from '@oms/contracts';

export interface Credit {
  creditLimit: number;
  held: number;
  currency: string;
}

/** May this amount be held against this credit? Pure: the authorise step's decision. */
export function decideAuthorisation(credit: Credit, amount: Money): FailureReason[] {
  if (amount.currency !== credit.currency) {
    return [{ code: 'PAYMENT_DECLINED', message: `the account is in ${credit.currency}, the order in ${amount.currency}` }];
  }
  const available = credit.creditLimit - credit.held;
  if (amount.amount > available) {
    return [{ code: 'PAYMENT_DECLINED', message: `${amount.amount} ${amount.currency} exceeds the available credit of ${available} ${credit.currency}` }];
  }
  return [];
}
