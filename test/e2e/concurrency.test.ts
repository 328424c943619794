import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestSystem, waitFor } from '@oms/devtools/testing';
import { createProduct, createUser, finalOrder, placeOrder, product } from './fixtures.ts';

describe('concurrency', () => {
  const { api } = useTestSystem();

  test('200 concurrent orders of one unit against stock 50: exactly 50 ready, none oversold', async () => {
    const user = await createUser(api);
    const sku = await createProduct(api, 50);
    const placed = await Promise.all(Array.from({ length: 200 }, () => placeOrder(api, user, [{ sku, quantity: 1 }])));
    const finals = await Promise.all(placed.map((o) => finalOrder(api, o.id, 60_000)));
    const ready = finals.filter((o) => o.status === 'READY_FOR_DELIVERY');
    const failed = finals.filter((o) => o.status === 'FAILED');
    assert.equal(ready.length, 50);
    assert.equal(failed.length, 150);
    assert.ok(failed.every((o) => o.failureReasons[0].code === 'INSUFFICIENT_STOCK'));
    const stock = await waitFor(() => product(api, sku), (p) => p.committed === 50, 'all 50 to be committed');
    assert.deepEqual([stock.available, stock.reserved, stock.committed], [0, 0, 50]);
  });

  test('two racing POSTs with one Idempotency-Key create one order', async () => {
    const user = await createUser(api);
    const sku = await createProduct(api, 10);
    const key = `key-${Date.now()}-${Math.random()}`;
    const results = await Promise.all(Array.from({ length: 5 }, () => placeOrder(api, user, [{ sku, quantity: 1 }], { 'idempotency-key': key })));
    assert.equal(new Set(results.map((r) => r.id)).size, 1);
    await finalOrder(api, results[0]!.id);
    const list = await api.get(`/api/orders?userId=${user}`);
    assert.equal(list.body.items.length, 1);
    assert.equal((await waitFor(() => product(api, sku), (p) => p.committed === 1, 'one unit committed')).available, 9);
  });

  test('reusing an Idempotency-Key for a different order is refused with 422', async () => {
    const user = await createUser(api);
    const sku = await createProduct(api, 10);
    const key = `key-${Date.now()}-${Math.random()}`;
    await placeOrder(api, user, [{ sku, quantity: 1 }], { 'idempotency-key': key });
    const res = await api.post('/api/orders', { userId: user, items: [{ sku, quantity: 2 }] }, { 'idempotency-key': key });
    assert.equal(res.status, 422);
    assert.equal(res.body.code, 'IDEMPOTENCY_KEY_REUSED');
  });
});
