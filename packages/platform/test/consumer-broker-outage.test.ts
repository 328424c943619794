// A consumer outlives a broker outage longer than the Kafka client's own retries: its stream
// fails, and it rebuilds itself from the committed offsets once the broker is back, losing
// nothing (found by the fault suite: a consumer that stopped reading for good).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Producer, stringSerializers } from '@platformatic/kafka';
import { ValidateUser } from '@oms/contracts';
import { pino } from 'pino';
import { buildMessage, ensureDatabase, migrate, openDatabase, startConsumer, withDatabaseName } from '../src/index.ts';
import { findFreePort, startLocalKafka, type LocalKafka } from '@oms/devtools/local';
import { waitFor } from '@oms/devtools/testing';

const cacheDir = join(import.meta.dirname, '..', '..', '..', '.cache');
const scratch = await mkdtemp(join(tmpdir(), 'oms-outage-'));
after(() => rm(scratch, { recursive: true, force: true }));

test('a consumer rebuilds itself after a broker outage longer than its client retries, and loses nothing', { timeout: 240_000 }, async () => {
  const databaseUrl = withDatabaseName(process.env.OMS_TEST_DATABASE_URL!, `outage_${randomBytes(3).toString('hex')}`);
  await ensureDatabase(databaseUrl);
  const database = openDatabase(databaseUrl, { max: 4 });
  await chmod(scratch, 0o755);
  const emptyMigrations = await mkdtemp(join(scratch, 'migrations-'));
  await migrate(database.pool, emptyMigrations);

  const options = { cacheDir, dataDir: join(scratch, 'kafka'), port: await findFreePort(), controllerPort: await findFreePort(), heapMb: 384 };
  let kafka: LocalKafka = await startLocalKafka(options);
  const topic = 'outage.commands';
  const admin = new Admin({ clientId: 'outage-test', bootstrapBrokers: [kafka.brokers] });
  await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
  await admin.close();

  const seen: string[] = [];
  // The consumer's log, kept to see which way it recovered.
  const logged: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(line) });
  const consumer = await startConsumer({
    db: database.db,
    brokers: [kafka.brokers],
    groupId: 'outage',
    topics: [topic],
    topicPrefix: '',
    logger,
    handler: ({ message }) => {
      seen.push(message.orderId);
      return Promise.resolve();
    },
  });
  const send = async (orderId: string) => {
    const m = buildMessage('', ValidateUser, { userId: 'u' }, { orderId });
    const producer = new Producer({ clientId: 'outage-producer', bootstrapBrokers: [kafka.brokers], serializers: stringSerializers });
    try {
      await producer.send({ messages: [{ topic, key: m.key, value: m.value }] });
    } finally {
      await producer.close();
    }
  };
  try {
    const before = randomUUID();
    await send(before);
    await waitFor(() => Promise.resolve(seen.includes(before)), Boolean, 'the first message to be applied', 30_000);

    await kafka.stop();
    // Down for longer than the client's own retries (10 × 0.5 s): its stream gives up.
    await waitFor(() => Promise.resolve(logged.some((l) => l.includes('kafka consumer stream failed; reconnecting'))), Boolean, 'the stream to give up', 60_000);
    kafka = await startLocalKafka(options);

    const afterOutage = randomUUID();
    await send(afterOutage);
    await waitFor(() => Promise.resolve(seen.includes(afterOutage)), Boolean, 'a message sent after the outage to be applied', 90_000);
    assert.ok(logged.some((l) => l.includes('kafka consumer reconnected')), 'it rebuilt itself');
    assert.equal(seen.filter((id) => id === before).length, 1, 'the message before the outage was applied once');
  } finally {
    await consumer.stop();
    await kafka.stop();
    await database.close();
  }
});
