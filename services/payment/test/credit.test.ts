import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideAuthorisation } from '../src/domain/credit.ts';

const credit = { creditLimit: 10_000, held: 7_000, currency: 'EUR' };

test('an amount within the available credit is authorised', () => {
  assert.deepEqual(decideAuthorisation(credit, { amount: 3_000, currency: 'EUR' }), []);
});

test('an amount over the available credit is declined, saying how much is available', () => {
  assert.deepEqual(decideAuthorisation(credit, { amount: 3_001, currency: 'EUR' }), [
    { code: 'PAYMENT_DECLINED', message: '3001 EUR exceeds the available credit of 3000 EUR' },
  ]);
});

test('an amount in another currency is declined', () => {
  assert.equal(decideAuthorisation(credit, { amount: 1, currency: 'USD' })[0]?.code, 'PAYMENT_DECLINED');
});
