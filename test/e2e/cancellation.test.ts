import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Topics } from '@oms/contracts';
import { useTestSystem, waitFor, waitForConsumersCaughtUp } from '@oms/devtools/testing';
import { createProduct, createUser, finalOrder, placeOrder, product } from './fixtures.ts';

describe('cancellation', () => {
  const { api, system } = useTestSystem();
  const brokers = (process.env.OMS_TEST_KAFKA_BROKERS ?? '').split(',');

  test('cancelling a ready order gives back its stock and its payment hold; a second cancel is refused and changes nothing', async () => {
    const user = await createUser(api);
    const sku = await createProduct(api, 5, 1000);
    const order = await finalOrder(api, (await placeOrder(api, user, [{ sku, quantity: 2 }])).id);
    assert.equal(order.status, 'READY_FOR_DELIVERY');
    await waitFor(() => product(api, sku), (p) => p.committed === 2, 'stock committed');

    const cancelled = await api.post(`/api/orders/${order.id}/cancel`);
    assert.equal(cancelled.status, 202);
    assert.equal(cancelled.body.status, 'CANCELLED');
    assert.deepEqual(cancelled.body.history.map((h: { status: string }) => h.status), ['CREATED', 'READY_FOR_DELIVERY', 'CANCELLED']);
    const stock = await waitFor(() => product(api, sku), (p) => p.available === 5, 'stock to come back');
    assert.deepEqual([stock.reserved, stock.committed], [0, 0]);
    await waitFor(() => api.get(`/api/payments/accounts/${user}`), (r) => r.body.held.amount === 0, 'the payment hold to be voided');

    const again = await api.post(`/api/orders/${order.id}/cancel`);
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'ORDER_NOT_CANCELLABLE');
    assert.equal((await api.get(`/api/orders/${order.id}`)).body.history.length, 3);
  });

  test('cancelling a failed order answers 409 ORDER_NOT_CANCELLABLE', async () => {
    const user = await createUser(api, { active: false });
    const sku = await createProduct(api, 5);
    const order = await finalOrder(api, (await placeOrder(api, user, [{ sku, quantity: 1 }])).id);
    assert.equal(order.status, 'FAILED');
    const res = await api.post(`/api/orders/${order.id}/cancel`);
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'ORDER_NOT_CANCELLABLE');
    assert.equal((await api.get(`/api/orders/${order.id}`)).body.status, 'FAILED');
  });

  test('cancelling while the saga runs compensates what it started, and late answers change nothing', async () => {
    const user = await createUser(api);
    const sku = await createProduct(api, 5);
    await system().kill('user', 'SIGTERM');
    const placed = await placeOrder(api, user, [{ sku, quantity: 3 }]);
    await waitFor(() => product(api, sku), (p) => p.reserved === 3, 'the reservation to be made');
    const cancelled = await api.post(`/api/orders/${placed.id}/cancel`);
    assert.equal(cancelled.status, 202);
    assert.equal(cancelled.body.status, 'CANCELLED');
    await waitFor(() => product(api, sku), (p) => p.available === 5 && p.reserved === 0, 'the reservation to be released');

    await system().restart('user');
    await waitForConsumersCaughtUp(brokers, system().prefix, { user: Topics.userCommands, order: Topics.sagaReplies, inventory: Topics.inventoryCommands });
    const after = (await api.get(`/api/orders/${placed.id}`)).body;
    assert.equal(after.status, 'CANCELLED');
    assert.deepEqual(after.history.map((h: { status: string }) => h.status), ['CREATED', 'CANCELLED']);
    const stock = await product(api, sku);
    assert.deepEqual([stock.available, stock.reserved, stock.committed], [5, 0, 0]);
  });

  test('cancelling an unknown order answers 404', async () => {
    const res = await api.post('/api/orders/00000000-0000-4000-8000-0000000000aa/cancel');
    assert.equal(res.status, 404);
    assert.equal(res.body.code, 'ORDER_NOT_FOUND');
  });
});
