// Poison never wedges (issue 10): whatever bytes arrive on any topic, while orders flow, the record
// is parked with its reason exactly as received, the partition moves on, and every order still ends
// final. A missing `<topic>.dlq` does not block consumption; ids in another letter case are the
// same ids.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Admin, Producer, stringSerializers } from '@platformatic/kafka';
import { dlqTopic, prefixed, Topics } from '@oms/contracts';
import { useTestSystem, waitFor, waitForConsumersCaughtUp } from '@oms/devtools/testing';
import { createProduct, createUser, finalOrder, placeOrder } from './fixtures.ts';

/** The service that consumes each topic (and so parks its poison). */
const consumerOf: Record<string, string> = {
  [Topics.userCommands]: 'user',
  [Topics.inventoryCommands]: 'inventory',
  [Topics.paymentCommands]: 'payment',
  [Topics.sagaReplies]: 'order',
  [Topics.orderEvents]: 'notification',
};

const envelope = (type: string, payload: unknown, ids: { messageId?: string; orderId?: string } = {}) => {
  const orderId = ids.orderId ?? randomUUID();
  return JSON.stringify({ messageId: ids.messageId ?? randomUUID(), type, version: 1, orderId, correlationId: orderId, causationId: null, occurredAt: new Date().toISOString(), payload });
};

/** Each kind of poison: its bytes (null: no value at all) and its key (null: no key). */
function poisons(): { kind: string; key: Buffer | null; value: Buffer | null }[] {
  const key = Buffer.from(randomUUID());
  return [
    { kind: 'not UTF-8', key, value: Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x80, 0x7d]) },
    { kind: 'a NUL character in a known message', key, value: Buffer.from(envelope('user.validate', { userId: 'a\u0000b' })) },
    { kind: 'a raw NUL byte', key, value: Buffer.from('{"type":"x\u0000y"}') },
    { kind: 'close to a megabyte', key, value: Buffer.alloc(900_000, 'x') },
    { kind: 'a null value', key, value: null },
    { kind: 'a null key and garbage', key: null, value: Buffer.from('garbage') },
    { kind: 'JSON with a wrong envelope', key, value: Buffer.from('{"hello":"world"}') },
    { kind: 'a known type with a wrong payload', key, value: Buffer.from(envelope('inventory.reserve-stock', { items: 'none' })) },
  ];
}

describe('poison never wedges a consumer', () => {
  const { api, system } = useTestSystem();

  test('every kind of poison on every topic is parked exactly as received while orders flow, and every order ends final', async () => {
    const brokers = process.env.OMS_TEST_KAFKA_BROKERS!.split(',');
    const prefix = system().prefix;
    const user = await createUser(api);
    const sku = await createProduct(api, 1_000);
    // One topic has no dead-letter topic at all: copying there fails, consumption must not wait for it.
    const admin = new Admin({ clientId: 'poison-admin', bootstrapBrokers: brokers });
    await admin.deleteTopics({ topics: [dlqTopic(prefixed(prefix, Topics.inventoryCommands))] });
    await admin.close();

    const producer = new Producer({ clientId: 'poison', bootstrapBrokers: brokers, serializers: { ...stringSerializers, key: (d?: Buffer | null) => d ?? undefined, value: (d?: Buffer | null) => d ?? undefined } });
    const orders: string[] = [];
    const sent: { topic: string; kind: string; value: Buffer | null }[] = [];
    try {
      for (const topic of Object.keys(consumerOf)) {
        orders.push((await placeOrder(api, user, [{ sku, quantity: 1 }])).id);
        for (const p of poisons()) {
          await producer.send({ messages: [{ topic: prefixed(prefix, topic), key: p.key, value: p.value }] });
          sent.push({ topic: prefixed(prefix, topic), kind: p.kind, value: p.value });
        }
        orders.push((await placeOrder(api, user, [{ sku, quantity: 1 }])).id);
      }
    } finally {
      await producer.close();
    }

    for (const id of orders) assert.equal((await finalOrder(api, id, 60_000)).status, 'READY_FOR_DELIVERY', `order ${id}`);

    for (const [topic, service] of Object.entries(consumerOf)) {
      const full = prefixed(prefix, topic);
      type Letter = { topic: string; value: string; valueEncoding: string; valueIsNull: boolean; failed: boolean; reason: string };
      const letters: Letter[] = await waitFor(
        async () => ((await api.get(`/api/admin/dead-letters/${service}?status=ALL&limit=200`)).body.items as Letter[]).filter((l) => l.topic === full),
        (items) => items.length >= sent.filter((s) => s.topic === full).length,
        `the ${service} service to park the poison of ${topic}`,
      );
      const expected = sent.filter((s) => s.topic === full);
      assert.equal(letters.length, expected.length, `${topic}: one dead letter per poison`);
      // Records without a key, or with one, land on different partitions: match by content, not by order.
      const bytesOf = (l: Letter) => (l.valueIsNull ? null : l.valueEncoding === 'base64' ? Buffer.from(l.value, 'base64') : Buffer.from(l.value, 'utf8'));
      const pool = [...letters];
      for (const original of expected) {
        const at = pool.findIndex((l) => {
          const b = bytesOf(l);
          return original.value === null ? b === null : b !== null && b.equals(original.value);
        });
        assert.ok(at >= 0, `${topic} ${original.kind}: parked exactly as received`);
        const [letter] = pool.splice(at, 1);
        assert.equal(letter!.failed, true, `${topic} ${original.kind}`);
        assert.ok(letter!.reason.length > 0);
        if (original.kind === 'not UTF-8') {
          assert.equal(letter!.valueEncoding, 'base64');
          assert.match(letter!.reason, /not valid UTF-8/);
        }
      }
    }
  });

  test('a command whose ids arrive in upper case is applied, and once: the same ids in lower case are a redelivery', async () => {
    const brokers = process.env.OMS_TEST_KAFKA_BROKERS!.split(',');
    const customer = await createUser(api);
    const orderId = randomUUID();
    const messageId = randomUUID();
    const producer = new Producer({ clientId: 'case', bootstrapBrokers: brokers, serializers: stringSerializers });
    try {
      const authorise = (ids: { messageId: string; orderId: string }) => envelope('payment.authorise', { userId: customer, amount: { amount: 1234, currency: 'EUR' } }, ids);
      await producer.send({ messages: [{ topic: prefixed(system().prefix, Topics.paymentCommands), key: orderId, value: authorise({ messageId: messageId.toUpperCase(), orderId: orderId.toUpperCase() }) }] });
      const held = await waitFor(() => api.get(`/api/payments/accounts/${customer}`), (r) => r.status === 200 && r.body.held.amount === 1234, 'the upper-case command to be applied');
      assert.equal(held.body.held.amount, 1234);
      await producer.send({ messages: [{ topic: prefixed(system().prefix, Topics.paymentCommands), key: orderId, value: authorise({ messageId, orderId }) }] });
      await waitForConsumersCaughtUp(brokers, system().prefix, { payment: Topics.paymentCommands });
    } finally {
      await producer.close();
    }
    assert.equal((await api.get(`/api/payments/accounts/${customer}`)).body.held.amount, 1234, 'held once');
    assert.deepEqual((await api.get(`/api/admin/dead-letters/payment?status=ALL&orderId=${orderId}`)).body.items, [], 'nothing parked for it');
  });
});
