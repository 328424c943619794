import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestSystem, waitFor } from '@oms/devtools/testing';
import { assertOrdersSettled, createProduct, createUser } from './fixtures.ts';

describe('crash recovery', () => {
  const { api, system } = useTestSystem();

  for (const victim of ['inventory', 'order', 'user', 'payment']) {
    test(`SIGKILL of the ${victim} service with orders in flight: every order still ends in exactly one final state`, async () => {
      const user = await createUser(api);
      const sku = await createProduct(api, 60);
      const ids: string[] = [];
      // Keep placing orders while the victim dies and comes back.
      const placing = (async () => {
        for (let i = 0; i < 80; i++) {
          const res = await api.post('/api/orders', { userId: user, items: [{ sku, quantity: 1 }] });
          if (res.status === 202) ids.push(res.body.id);
          else assert.equal(res.status, 503, `unexpected ${res.status} ${JSON.stringify(res.body)}`);
        }
      })();
      await waitFor(() => Promise.resolve(ids.length), (n) => n >= 20, 'orders in flight');
      await system().kill(victim, 'SIGKILL');
      await system().restart(victim);
      await placing;
      assert.ok(ids.length >= 20);
      await assertOrdersSettled(api, { userId: user, sku, stock: 60, acknowledged: ids });
    });
  }
});
