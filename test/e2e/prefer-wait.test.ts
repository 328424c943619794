// Clients can wait instead of polling (issue 10 part): `Prefer: wait=<seconds>` on POST and GET
// answers as soon as the order is final, or with its current state when the wait is over.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useTestSystem } from '@oms/devtools/testing';
import { createProduct, createUser, finalOrder } from './fixtures.ts';

describe('Prefer: wait', () => {
  const { api, system } = useTestSystem();

  test('POST with Prefer: wait answers 201 with the final order, Location and Preference-Applied', async () => {
    const user = await createUser(api);
    const sku = await createProduct(api, 10);
    const res = await api.post('/api/orders', { userId: user, items: [{ sku, quantity: 1 }] }, { prefer: 'wait=10' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'READY_FOR_DELIVERY');
    assert.equal(res.headers.get('preference-applied'), 'wait');
    assert.equal(res.headers.get('location'), `/api/orders/${res.body.id}`);
    assert.deepEqual(res.body.history.map((h: { status: string }) => h.status), ['CREATED', 'READY_FOR_DELIVERY']);
    const refused = await api.post('/api/orders', { userId: user, items: [{ sku, quantity: 50 }] }, { prefer: 'wait=10' });
    assert.equal(refused.status, 201, 'FAILED is final too');
    assert.equal(refused.body.status, 'FAILED');
    assert.equal(refused.body.failureReasons[0].code, 'INSUFFICIENT_STOCK');
    const plain = await api.post('/api/orders', { userId: user, items: [{ sku, quantity: 1 }] });
    assert.equal(plain.status, 202, 'without the preference nothing waits');
    assert.equal(plain.headers.get('preference-applied'), null);
  });

  test('while a participant is down, POST and GET wait out the wait and answer with the current state', async () => {
    const user = await createUser(api);
    const sku = await createProduct(api, 10);
    await system().kill('user', 'SIGKILL');
    try {
      const started = Date.now();
      const res = await api.post('/api/orders', { userId: user, items: [{ sku, quantity: 1 }] }, { prefer: 'wait=1' });
      assert.equal(res.status, 202);
      assert.equal(res.body.status, 'CREATED');
      assert.ok(Date.now() - started >= 900, 'it waited');
      const got = await api.raw('GET', `/api/orders/${res.body.id}`, undefined, { prefer: 'wait=1' });
      assert.equal(got.status, 200);
      assert.equal((got.body as { status: string }).status, 'CREATED');

      // The user service comes back while a GET waits: the GET answers as the order becomes final.
      const waiting = api.raw('GET', `/api/orders/${res.body.id}`, undefined, { prefer: 'wait=25' });
      await system().restart('user');
      const done = await waiting;
      assert.equal(done.status, 200);
      assert.equal((done.body as { status: string }).status, 'READY_FOR_DELIVERY');
      assert.equal(done.headers.get('preference-applied'), 'wait');
    } finally {
      if (system().services.get('user')!.process.exitCode !== null || system().services.get('user')!.process.signalCode !== null) await system().restart('user');
    }
  });

  test("a customer's wait on another's order is 404 at once", async () => {
    const user = await createUser(api);
    const sku = await createProduct(api, 10);
    const order = (await api.post('/api/orders', { userId: user, items: [{ sku, quantity: 1 }] })).body;
    await finalOrder(api, order.id);
    const signup = await api.as(undefined).post('/api/auth/signup', { name: 'W', email: `w-${Date.now()}@example.com`, password: 'correct horse battery' });
    const started = Date.now();
    const res = await api.as(signup.body.accessToken).raw('GET', `/api/orders/${order.id}`, undefined, { prefer: 'wait=10' });
    assert.equal(res.status, 404);
    assert.ok(Date.now() - started < 5_000);
  });
});
