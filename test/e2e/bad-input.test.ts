import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Consumer, MessagesStreamModes, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { dlqTopic, prefixed, Topics } from '@oms/contracts';
import { useTestSystem, waitFor } from '@oms/devtools/testing';
import { createProduct, createUser, finalOrder, placeOrder } from './fixtures.ts';

describe('bad input changes nothing', () => {
  const { api, system } = useTestSystem();
  let user: string;
  let sku: string;
  before(async () => {
    user = await createUser(api);
    sku = await createProduct(api, 10);
  });

  const orderCount = async () => (await api.get(`/api/orders?limit=200`)).body.items.length as number;

  const cases: { name: string; body: unknown; status: number; code: string; headers?: Record<string, string> }[] = [
    { name: 'malformed JSON', body: '{"userId": "x", "items": [', status: 400, code: 'MALFORMED_JSON' },
    { name: 'a wrong type', body: () => ({ userId: user, items: [{ sku, quantity: '2' }] }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'a missing field', body: () => ({ items: [{ sku, quantity: 1 }] }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'an unknown field', body: () => ({ userId: user, items: [{ sku, quantity: 1 }], coupon: 'FREE' }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'a zero quantity', body: () => ({ userId: user, items: [{ sku, quantity: 0 }] }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'a fractional quantity', body: () => ({ userId: user, items: [{ sku, quantity: 1.5 }] }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'no items', body: () => ({ userId: user, items: [] }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'more than 100 items', body: () => ({ userId: user, items: Array.from({ length: 101 }, () => ({ sku, quantity: 1 })) }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'a body over 1 MiB', body: () => ({ userId: 'x'.repeat(1024 * 1024 + 10), items: [{ sku, quantity: 1 }] }), status: 413, code: 'BODY_TOO_LARGE' },
    { name: 'a non-JSON content type', body: 'userId=x', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', headers: { 'content-type': 'text/plain' } },
    { name: 'a NUL character in a string', body: () => ({ userId: user, items: [{ sku: `${sku}\u0000`, quantity: 1 }] }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'a NUL character in the user id', body: () => ({ userId: `${user}\u0000`, items: [{ sku, quantity: 1 }] }), status: 400, code: 'VALIDATION_FAILED' },
    // 2 × 500,000 units of a product at up to 10^10 minor units could not have an exact total.
    { name: 'more units than a total can hold (900,000)', body: () => ({ userId: user, items: [{ sku, quantity: 500_000 }, { sku: `${sku}-B`, quantity: 500_000 }] }), status: 400, code: 'VALIDATION_FAILED' },
  ].map((c) => ({ ...c, body: c.body }));

  for (const c of cases) {
    test(`an order with ${c.name} gets ${c.status} ${c.code} and writes nothing`, async () => {
      const before = await orderCount();
      const body = typeof c.body === 'function' ? (c.body as () => unknown)() : c.body;
      const res = await api.raw<{ code: string; status: number; title: string; type: string }>('POST', '/api/orders', body, c.headers);
      assert.equal(res.status, c.status);
      assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(res.body.code, c.code);
      assert.equal(res.body.status, c.status);
      assert.ok(res.body.title && res.body.type);
      assert.equal(await orderCount(), before);
    });
  }

  test('a cursor of the right shape but the wrong content gets 400 INVALID_CURSOR on every list', async () => {
    const bad = Buffer.from(JSON.stringify(['x', 'y'])).toString('base64url');
    const one = Buffer.from(JSON.stringify(['x'])).toString('base64url');
    for (const path of [`/api/orders?cursor=${bad}`, `/api/notifications?cursor=${one}`, `/api/admin/sagas?cursor=${one}`, `/api/admin/dead-letters/order?cursor=${one}`, `/api/products?cursor=${Buffer.from('[1]').toString('base64url')}`]) {
      const res = await api.get(path);
      assert.equal(res.status, 400, path);
      assert.equal(res.body.code, 'INVALID_CURSOR', path);
    }
  });

  test('a product with a NUL character or a price above 10^10 minor units is refused and not written', async () => {
    const nul = await api.post('/api/products', { sku: `${sku}-N`, name: 'bad\u0000name', price: { amount: 100, currency: 'EUR' }, stock: 1 });
    assert.equal(nul.status, 400);
    assert.equal(nul.body.code, 'VALIDATION_FAILED');
    const dear = await api.post('/api/products', { sku: `${sku}-D`, name: 'dear', price: { amount: 10_000_000_001, currency: 'EUR' }, stock: 1 });
    assert.equal(dear.status, 400);
    for (const missing of [`${sku}-N`, `${sku}-D`]) assert.equal((await api.get(`/api/products/${missing}`)).status, 404);
    const name = await api.post('/api/users', { name: 'a\u0000b', email: `nul-${Date.now()}@example.com` });
    assert.equal(name.status, 400);
  });

  test("changing an account's currency while it holds money gets 409 ACCOUNT_CURRENCY_IN_USE and changes nothing", async () => {
    const buyer = await createUser(api);
    const order = await placeOrder(api, buyer, [{ sku, quantity: 1 }]);
    assert.equal((await finalOrder(api, order.id)).status, 'READY_FOR_DELIVERY');
    const held = (await api.get(`/api/payments/accounts/${buyer}`)).body;
    assert.ok(held.held.amount > 0);
    const res = await api.post('/api/payments/accounts', { userId: buyer, creditLimit: { amount: 5_000_000, currency: 'USD' } });
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'ACCOUNT_CURRENCY_IN_USE');
    assert.deepEqual((await api.get(`/api/payments/accounts/${buyer}`)).body, held);
    // The same currency is fine.
    assert.equal((await api.post('/api/payments/accounts', { userId: buyer, creditLimit: { amount: 5_000_000, currency: 'EUR' } })).status, 200);
    // And once nothing is held, so is another.
    assert.equal((await api.post(`/api/orders/${order.id}/cancel`)).status, 202);
    await waitFor(() => api.get(`/api/payments/accounts/${buyer}`), (r) => r.body.held.amount === 0, 'the hold to be voided');
    assert.equal((await api.post('/api/payments/accounts', { userId: buyer, creditLimit: { amount: 5_000_000, currency: 'USD' } })).body.creditLimit.currency, 'USD');
  });

  test('a duplicate email gets 409 DUPLICATE_EMAIL', async () => {
    const email = `dup-${Date.now()}@example.com`;
    assert.equal((await api.post('/api/users', { name: 'A', email })).status, 201);
    const res = await api.post('/api/users', { name: 'B', email: email.toUpperCase() });
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'DUPLICATE_EMAIL');
  });

  test('unknown ids get 404 with their own codes', async () => {
    const id = '00000000-0000-4000-8000-0000000000ff';
    assert.equal((await api.get(`/api/orders/${id}`)).body.code, 'ORDER_NOT_FOUND');
    assert.equal((await api.get(`/api/users/${id}`)).body.code, 'USER_NOT_FOUND');
    assert.equal((await api.get(`/api/products/NOPE-${Date.now()}`)).body.code, 'PRODUCT_NOT_FOUND');
    assert.equal((await api.get('/api/nothing-here')).status, 404);
  });

  test('a stock correction that would go negative is refused and changes nothing', async () => {
    const res = await api.post(`/api/products/${sku}/stock`, { delta: -11 });
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'STOCK_WOULD_GO_NEGATIVE');
    assert.equal((await api.get(`/api/products/${sku}`)).body.available, 10);
  });

  test('a poison message lands in the dead-letter topic with its reason, and the consumer goes on', async () => {
    const brokers = process.env.OMS_TEST_KAFKA_BROKERS!.split(',');
    const topic = prefixed(system().prefix, Topics.inventoryCommands);
    const producer = new Producer({ clientId: 'poison', bootstrapBrokers: brokers, serializers: stringSerializers });
    const orderId = crypto.randomUUID();
    await producer.send({ messages: [{ topic, key: orderId, value: 'this is not json' }] });
    await producer.close();

    const consumer = new Consumer({ groupId: `${system().prefix}-dlq-reader`, clientId: 'dlq-reader', bootstrapBrokers: brokers, deserializers: stringDeserializers });
    const stream = await consumer.consume({ topics: [dlqTopic(topic)], mode: MessagesStreamModes.EARLIEST });
    try {
      const parked = await new Promise<{ value: string; reason: string | undefined }>((resolve) => {
        stream.on('data', (m) => {
          if (m.key === orderId) resolve({ value: m.value, reason: m.headers.get('x-dlq-reason') });
        });
      });
      assert.equal(parked.value, 'this is not json');
      assert.match(parked.reason ?? '', /not JSON/);
    } finally {
      await stream.close();
      await consumer.close(true);
    }
    // The partition keeps moving: a real order after the poison one still completes.
    const order = await finalOrder(api, (await placeOrder(api, user, [{ sku, quantity: 1 }])).id);
    assert.equal(order.status, 'READY_FOR_DELIVERY');
    await waitFor(() => api.get(`/api/products/${sku}`), (r) => r.body.committed === 1, 'the order after the poison message to commit stock');
  });
});
