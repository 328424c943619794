// A record the broker refuses (here: larger than the broker takes) never holds back the outbox
// rows behind it: it moves to outbox_refused with the reason, the others are published in order.
// Real Kafka and PostgreSQL.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { createLogger, ensureTopics, startOutboxRelay, type Database } from '../src/index.ts';
import { platformDatabase } from './platform-database.ts';
import { waitFor } from '@oms/devtools/testing';

let database: Database<unknown>;
const brokers = () => process.env.OMS_TEST_KAFKA_BROKERS!.split(',');
before(async () => {
  database = await platformDatabase('refused', 3);
});
after(async () => {
  await database.close();
});

test('a record the broker refuses is set aside with its reason, and the rows behind it are published', async () => {
  const topic = `refused-${randomBytes(4).toString('hex')}`;
  await ensureTopics(brokers(), [{ name: topic, partitions: 1 }]);
  const key = randomUUID();
  const rows = [
    { id: randomUUID(), value: JSON.stringify({ n: 1 }) },
    { id: randomUUID(), value: JSON.stringify({ n: 2, padding: 'x'.repeat(2 * 1024 * 1024) }) }, // over the broker's 1 MiB
    { id: randomUUID(), value: JSON.stringify({ n: 3 }) },
  ];
  for (const r of rows) {
    await sql`insert into outbox (topic, message_key, message_id, value) values (${topic}, ${key}, ${r.id}::uuid, ${r.value})`.execute(database.db);
  }
  const relay = startOutboxRelay({ pool: database.pool, brokers: brokers(), clientId: 'refused-test', logger: createLogger('refused-test', 'silent'), idlePollMs: 50 });
  try {
    await waitFor(() => relay.pending(), (n) => n === 0, 'the outbox to drain past the refused row', 60_000);
  } finally {
    await relay.stop();
  }
  const { rows: refused } = await sql<{ message_id: string; reason: string; value: string }>`select message_id, reason, value from outbox_refused`.execute(database.db);
  assert.equal(refused.length, 1);
  assert.equal(refused[0]!.message_id, rows[1]!.id);
  assert.match(refused[0]!.reason, /MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE/);
  assert.equal(refused[0]!.value, rows[1]!.value, 'kept whole');

  const consumer = new Consumer({ groupId: `refused-reader-${randomUUID()}`, clientId: 'refused-reader', bootstrapBrokers: brokers(), deserializers: stringDeserializers });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
    const seen: number[] = [];
    stream.on('data', (m) => seen.push((JSON.parse(m.value) as { n: number }).n));
    await waitFor(() => Promise.resolve([...new Set(seen)]), (ns) => ns.includes(1) && ns.includes(3), 'both small rows on the topic', 30_000);
    assert.deepEqual([...new Set(seen)], [1, 3], 'in order, without the refused one');
    await stream.close();
  } finally {
    await consumer.close(true);
  }
});
