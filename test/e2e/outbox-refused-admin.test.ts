// The admin API over outbox rows the broker refused for good (/api/admin/outbox-refused/<service>):
// a record over the broker's size limit is set aside by the relay and listed with the broker's
// reason; an operator reads it, discards it, or, after a fix, sends one again, which then reaches
// its topic. Customers are refused. Real Kafka, PostgreSQL and services.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { ensureTopics, openDatabase, serviceDatabaseName, withDatabaseName } from '@oms/platform';
import { useTestSystem, waitFor } from '@oms/devtools/testing';
import { loggedIn } from './fixtures.ts';

describe('refused outbox messages', () => {
  const { api, system } = useTestSystem();
  const brokers = () => process.env.OMS_TEST_KAFKA_BROKERS!.split(',');

  test('listed with the reason, read, discarded, and resent after a fix; operators only', async () => {
    const topic = `refused-admin-${randomBytes(4).toString('hex')}`;
    await ensureTopics(brokers(), [{ name: topic, partitions: 1 }]);
    const database = openDatabase(withDatabaseName(process.env.OMS_TEST_DATABASE_URL!, serviceDatabaseName(system().prefix, 'inventory')), { max: 1 });
    const base = '/api/admin/outbox-refused/inventory';
    try {
      // Too large for the broker (1 MiB): the inventory service's relay sets it aside.
      const big = { id: randomUUID(), value: JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }) };
      await sql`insert into outbox (topic, message_key, message_id, value) values (${topic}, ${'k'}, ${big.id}::uuid, ${big.value})`.execute(database.db);
      const listed = await waitFor(() => api.get(base), (r) => r.body.items?.some((m: { messageId: string }) => m.messageId === big.id), 'the refused row to be listed', 30_000);
      const item = listed.body.items.find((m: { messageId: string }) => m.messageId === big.id);
      assert.equal(item.topic, topic);
      assert.equal(item.bytes, Buffer.byteLength(big.value));
      assert.match(item.reason, /MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE/);
      assert.equal(item.value, undefined, 'a list leaves the values out');
      const one = await api.get(`${base}/${item.id}`);
      assert.equal(one.status, 200);
      assert.equal(one.body.value, big.value, 'kept whole');

      const customer = await loggedIn(api);
      for (const [method, path] of [['GET', base], ['GET', `${base}/${item.id}`], ['POST', `${base}/${item.id}/resend`], ['POST', `${base}/${item.id}/discard`]] as const) {
        assert.equal((await customer.api.raw(method, path)).status, 403, `${method} ${path} as a customer`);
      }

      const discarded = await api.post(`${base}/${item.id}/discard`);
      assert.equal(discarded.status, 200);
      assert.equal(discarded.body.messageId, big.id);
      const gone = await api.get(`${base}/${item.id}`);
      assert.equal(gone.status, 404);
      assert.equal(gone.body.code, 'REFUSED_MESSAGE_NOT_FOUND');
      assert.equal((await api.post(`${base}/${item.id}/resend`)).body.code, 'REFUSED_MESSAGE_NOT_FOUND');

      // After a fix the value is acceptable (here: a refused row whose value now fits): resent, it reaches its topic.
      const fixed = { id: randomUUID(), value: JSON.stringify({ fixed: true }) };
      const { rows } = await sql<{ id: number }>`
        insert into outbox_refused (id, topic, message_key, message_id, value, created_at, reason)
        values (nextval('outbox_id_seq'), ${topic}, ${'k2'}, ${fixed.id}::uuid, ${fixed.value}, now(), 'MESSAGE_TOO_LARGE: test')
        returning id`.execute(database.db);
      const resent = await api.post(`${base}/${rows[0]!.id}/resend`);
      assert.equal(resent.status, 202, JSON.stringify(resent.body));
      assert.equal(resent.body.messageId, fixed.id);
      assert.equal((await api.get(`${base}/${rows[0]!.id}`)).status, 404, 'no longer set aside');

      const consumer = new Consumer({ groupId: `refused-admin-${randomUUID()}`, clientId: 'refused-admin', bootstrapBrokers: brokers(), deserializers: stringDeserializers });
      try {
        const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
        const seen: string[] = [];
        stream.on('data', (m) => seen.push(m.value));
        await waitFor(() => Promise.resolve(seen), (values) => values.includes(fixed.value), 'the resent message on its topic', 30_000);
        assert.deepEqual(seen, [fixed.value], 'the discarded one was never sent');
        await stream.close();
      } finally {
        await consumer.close(true);
      }
    } finally {
      await database.close();
    }
  });
});
