import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Topics } from '@oms/contracts';
import { useTestSystem, waitFor, waitForConsumersCaughtUp } from '@oms/devtools/testing';
import { createProduct, createUser, finalOrder, placeOrder, product } from './fixtures.ts';

describe('a participant that never answers cannot leave an order hanging', () => {
  const { api, system } = useTestSystem({ env: { SAGA_STEP_DEADLINE_MS: '2000', SAGA_SWEEP_INTERVAL_MS: '200' } });
  const brokers = (process.env.OMS_TEST_KAFKA_BROKERS ?? '').split(',');

  test('the user service down past the deadline: FAILED with STEP_TIMEOUT, stock released, and its late answer changes nothing', async () => {
    const user = await createUser(api);
    const sku = await createProduct(api, 5);
    await system().kill('user', 'SIGTERM');
    const order = await finalOrder(api, (await placeOrder(api, user, [{ sku, quantity: 2 }])).id, 20_000);
    assert.equal(order.status, 'FAILED');
    assert.deepEqual(order.failureReasons.map((r: { code: string }) => r.code), ['STEP_TIMEOUT']);
    await waitFor(() => product(api, sku), (p) => p.reserved === 0 && p.available === 5, 'the reservation to be released');

    await system().restart('user');
    await waitForConsumersCaughtUp(brokers, system().prefix, { user: Topics.userCommands, order: Topics.sagaReplies });
    const after = (await api.get(`/api/orders/${order.id}`)).body;
    assert.equal(after.status, 'FAILED');
    assert.deepEqual(after.history.map((h: { status: string }) => h.status), ['CREATED', 'FAILED']);
    const stock = await product(api, sku);
    assert.deepEqual([stock.available, stock.reserved, stock.committed], [5, 0, 0]);
  });

  test('the inventory service down past the deadline: its late reservation is released, nothing stays reserved', async () => {
    const user = await createUser(api);
    const sku = await createProduct(api, 5);
    await system().kill('inventory', 'SIGTERM');
    const order = await finalOrder(api, (await placeOrder(api, user, [{ sku, quantity: 3 }])).id, 20_000);
    assert.equal(order.status, 'FAILED');
    assert.deepEqual(order.failureReasons.map((r: { code: string }) => r.code), ['STEP_TIMEOUT']);

    // Back up, inventory applies the reserve it missed and then the release that followed it.
    await system().restart('inventory');
    await waitForConsumersCaughtUp(brokers, system().prefix, { inventory: Topics.inventoryCommands, order: Topics.sagaReplies });
    const stock = await product(api, sku);
    assert.deepEqual([stock.available, stock.reserved, stock.committed], [5, 0, 0]);
    const after = (await api.get(`/api/orders/${order.id}`)).body;
    assert.equal(after.status, 'FAILED');
    assert.equal(after.history.length, 2);
  });
});
