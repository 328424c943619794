import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestSystem, waitFor } from '@oms/platform/testing';
import { createProduct, createUser, finalOrder, FINAL, product } from './fixtures.ts';

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
      // A POST cut off by the crash may still have committed its order: count what the system holds.
      const all = (await api.get(`/api/orders?userId=${user}&limit=200`)).body.items.map((o: { id: string }) => o.id) as string[];
      assert.ok(ids.every((id) => all.includes(id)), 'every acknowledged order exists');

      const finals = await Promise.all(all.map((id) => finalOrder(api, id, 90_000)));
      for (const o of finals) {
        assert.ok(FINAL.has(o.status));
        assert.equal(o.history.filter((h: { status: string }) => FINAL.has(h.status)).length, 1, `order ${o.id} history ${JSON.stringify(o.history)}`);
      }
      const ready = finals.filter((o) => o.status === 'READY_FOR_DELIVERY').length;
      assert.equal(ready, Math.min(60, all.length));
      // Stock is conserved: 60 = available + reserved + committed, and only ready orders hold it.
      const stock = await waitFor(() => product(api, sku), (p) => p.reserved === 0 && p.committed === ready, 'stock to settle');
      assert.equal(stock.available + stock.reserved + stock.committed, 60);
      assert.ok(stock.available >= 0);
    });
  }
});
