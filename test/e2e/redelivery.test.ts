import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Consumer, MessagesStreamModes, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { prefixed, Topics } from '@oms/contracts';
import { apiClient, startTestSystem, waitFor, type ApiClient } from '@oms/platform/testing';
import { createProduct, createUser, finalOrder, placeOrder, product } from './fixtures.ts';

/** Reads every message of `topic` whose key is `orderId`, until `count` have been seen. */
async function messagesOf(brokers: string[], topic: string, orderId: string, count: number): Promise<{ key: string; value: string; type: string }[]> {
  const consumer = new Consumer({ groupId: `reader-${crypto.randomUUID()}`, clientId: 'reader', bootstrapBrokers: brokers, deserializers: stringDeserializers });
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
  try {
    return await new Promise((resolve) => {
      const found: { key: string; value: string; type: string }[] = [];
      stream.on('data', (m) => {
        if (m.key !== orderId) return;
        found.push({ key: m.key, value: m.value, type: (JSON.parse(m.value) as { type: string }).type });
        if (found.length === count) resolve(found);
      });
    });
  } finally {
    await stream.close();
    await consumer.close(true);
  }
}

describe('redelivery changes nothing', () => {
  let system: Awaited<ReturnType<typeof startTestSystem>>;
  let api: ApiClient;
  let brokers: string[];
  before(async () => {
    system = await startTestSystem();
    api = apiClient(system.baseUrl);
    brokers = process.env.OMS_TEST_KAFKA_BROKERS!.split(',');
  });
  after(async () => system?.stop());

  test('the same commands and replies delivered again do not reserve, notify or change the order twice', async () => {
    const user = await createUser(api);
    const sku = await createProduct(api, 10);
    const order = await finalOrder(api, (await placeOrder(api, user, [{ sku, quantity: 4 }])).id);
    assert.equal(order.status, 'READY_FOR_DELIVERY');
    await waitFor(() => product(api, sku), (p) => p.committed === 4, 'stock committed');

    // reserve + commit on the inventory topic; user reply + reservation reply + commit reply on the replies topic.
    const commands = await messagesOf(brokers, prefixed(system.prefix, Topics.inventoryCommands), order.id, 2);
    const replies = await messagesOf(brokers, prefixed(system.prefix, Topics.sagaReplies), order.id, 3);
    const producer = new Producer({ clientId: 'redeliver', bootstrapBrokers: brokers, serializers: stringSerializers });
    const again = [...commands.map((m) => ({ ...m, topic: prefixed(system.prefix, Topics.inventoryCommands) })), ...replies.map((m) => ({ ...m, topic: prefixed(system.prefix, Topics.sagaReplies) }))];
    await producer.send({ messages: again.map((m) => ({ topic: m.topic, key: m.key, value: m.value })) });
    // The same command with a new message id (a client retry, not a broker redelivery) must not reserve twice either.
    const reserve = commands.find((m) => m.type === 'inventory.reserve-stock')!;
    await producer.send({ messages: [{ topic: prefixed(system.prefix, Topics.inventoryCommands), key: reserve.key, value: JSON.stringify({ ...JSON.parse(reserve.value), messageId: crypto.randomUUID() }) }] });
    // A marker order placed afterwards on a fresh SKU tells us the consumers have moved past the duplicates.
    const marker = await finalOrder(api, (await placeOrder(api, user, [{ sku: await createProduct(api, 1), quantity: 1 }])).id);
    assert.equal(marker.status, 'READY_FOR_DELIVERY');
    await producer.close();

    const stock = await product(api, sku);
    assert.deepEqual([stock.available, stock.reserved, stock.committed], [6, 0, 4]);
    const now = (await api.get(`/api/orders/${order.id}`)).body;
    assert.equal(now.status, 'READY_FOR_DELIVERY');
    assert.equal(now.history.length, 2);
    const notes = await api.get(`/api/notifications?orderId=${order.id}`);
    assert.equal(notes.body.items.length, 2);
  });
});
