import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestSystem, waitFor } from '@oms/devtools/testing';
import { createProduct, createUser, finalOrder, placeOrder, product } from './fixtures.ts';

describe('payment authorisation as a saga step (on by default)', () => {
  const { api } = useTestSystem();

  test('a ready order holds its total against the user credit', async () => {
    const user = await createUser(api);
    const sku = await createProduct(api, 5, 1250);
    const order = await finalOrder(api, (await placeOrder(api, user, [{ sku, quantity: 2 }])).id);
    assert.equal(order.status, 'READY_FOR_DELIVERY');
    const account = await api.get(`/api/payments/accounts/${user}`);
    assert.equal(account.status, 200);
    assert.deepEqual(account.body.held, { amount: 2500, currency: 'EUR' });
  });

  test('a declined payment fails the order with PAYMENT_DECLINED, releases the stock and holds nothing', async () => {
    const user = await createUser(api);
    const limit = await api.post('/api/payments/accounts', { userId: user, creditLimit: { amount: 1000, currency: 'EUR' } });
    assert.equal(limit.status, 200);
    const sku = await createProduct(api, 5, 1250);
    const order = await finalOrder(api, (await placeOrder(api, user, [{ sku, quantity: 1 }])).id);
    assert.equal(order.status, 'FAILED');
    assert.deepEqual(order.failureReasons.map((r: { code: string }) => r.code), ['PAYMENT_DECLINED']);
    const stock = await waitFor(() => product(api, sku), (p) => p.reserved === 0, 'the reservation to be released');
    assert.deepEqual([stock.available, stock.committed], [5, 0]);
    assert.equal((await api.get(`/api/payments/accounts/${user}`)).body.held.amount, 0);
  });

  test('an unknown payment account is a 404 with its own code', async () => {
    const res = await api.get('/api/payments/accounts/nobody-at-all');
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 'ACCOUNT_NOT_FOUND');
  });
});

describe('with payment switched off (OMS_PAYMENT_ENABLED=false)', () => {
  const { api } = useTestSystem({ env: { OMS_PAYMENT_ENABLED: 'false' } });

  test('the saga runs without the payment step and nothing else changes', async () => {
    const user = await createUser(api);
    const sku = await createProduct(api, 5, 1250);
    const order = await finalOrder(api, (await placeOrder(api, user, [{ sku, quantity: 2 }])).id);
    assert.equal(order.status, 'READY_FOR_DELIVERY');
    assert.deepEqual(order.total, { amount: 2500, currency: 'EUR' });
    // The payment service never heard of this user.
    assert.equal((await api.get(`/api/payments/accounts/${user}`)).status, 404);
  });
});
