import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Consumer, MessagesStreamModes, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { prefixed, Topics } from '@oms/contracts';
import { useTestSystem, waitFor, waitForConsumersCaughtUp } from '@oms/devtools/testing';
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
  const { api, system } = useTestSystem();
  const brokers = (process.env.OMS_TEST_KAFKA_BROKERS ?? '').split(',');

  test('the same commands and replies delivered again do not reserve, notify or change the order twice', async () => {
    const user = await createUser(api);
    const sku = await createProduct(api, 10);
    const order = await finalOrder(api, (await placeOrder(api, user, [{ sku, quantity: 4 }])).id);
    assert.equal(order.status, 'READY_FOR_DELIVERY');
    await waitFor(() => product(api, sku), (p) => p.committed === 4, 'stock committed');

    await waitFor(() => api.get(`/api/notifications?orderId=${order.id}`), (r) => r.body.items.length === 2, 'both notifications');

    // reserve + commit on the inventory topic; user reply + reservation reply + commit reply on the
    // replies topic; CREATED + READY_FOR_DELIVERY on the order events topic.
    const topics = {
      commands: prefixed(system().prefix, Topics.inventoryCommands),
      replies: prefixed(system().prefix, Topics.sagaReplies),
      events: prefixed(system().prefix, Topics.orderEvents),
    };
    const sent = [
      ...(await messagesOf(brokers, topics.commands, order.id, 2)).map((m) => ({ ...m, topic: topics.commands })),
      ...(await messagesOf(brokers, topics.replies, order.id, 3)).map((m) => ({ ...m, topic: topics.replies })),
      ...(await messagesOf(brokers, topics.events, order.id, 2)).map((m) => ({ ...m, topic: topics.events })),
    ];
    const producer = new Producer({ clientId: 'redeliver', bootstrapBrokers: brokers, serializers: stringSerializers });
    // Exactly the same messages again (a broker redelivery)…
    await producer.send({ messages: sent.map((m) => ({ topic: m.topic, key: m.key, value: m.value })) });
    // …and the same commands and events under new message ids (a sender's retry): still no second effect.
    const retried = sent.filter((m) => m.topic !== topics.replies).map((m) => ({ topic: m.topic, key: m.key, value: JSON.stringify({ ...JSON.parse(m.value), messageId: crypto.randomUUID() }) }));
    await producer.send({ messages: retried });
    await producer.close();
    await waitForConsumersCaughtUp(brokers, system().prefix, { inventory: Topics.inventoryCommands, order: Topics.sagaReplies, notification: Topics.orderEvents });

    const stock = await product(api, sku);
    assert.deepEqual([stock.available, stock.reserved, stock.committed], [6, 0, 4]);
    const now = (await api.get(`/api/orders/${order.id}`)).body;
    assert.equal(now.status, 'READY_FOR_DELIVERY');
    assert.equal(now.history.length, 2);
    const notes = await api.get(`/api/notifications?orderId=${order.id}`);
    assert.deepEqual(notes.body.items.map((n: { status: string }) => n.status).sort(), ['CREATED', 'READY_FOR_DELIVERY']);
  });
});
