// OMS_KAFKA_NODES=3: the local three-node KRaft cluster. Topics made by ensureTopics have three
// replicas; an acks=all write goes through with one node down (two in sync) and is refused with
// two down (min.insync.replicas=2), so an acknowledged record is always on two nodes; a killed
// node comes back on its data and rejoins. Real brokers.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Producer, stringSerializers } from '@platformatic/kafka';
import { findFreePort, startLocalKafka } from '../src/local/index.ts';
import { ensureTopics } from '@oms/platform';
import { waitFor } from '../src/testing/index.ts';

const cacheDir = join(import.meta.dirname, '..', '..', '..', '.cache');
const scratch = await mkdtemp(join(tmpdir(), 'oms-kafka-cluster-'));
after(() => rm(scratch, { recursive: true, force: true }));

test('three nodes: replicated topics, writes acknowledged by two, a killed node rejoins', { timeout: 300_000 }, async () => {
  const moreNodes = [
    { port: await findFreePort(), controllerPort: await findFreePort() },
    { port: await findFreePort(), controllerPort: await findFreePort() },
  ];
  const kafka = await startLocalKafka({ cacheDir, dataDir: join(scratch, 'kafka'), port: await findFreePort(), controllerPort: await findFreePort(), moreNodes, heapMb: 256 });
  try {
    assert.equal(kafka.nodes.length, 3);
    assert.equal(kafka.replicationFactor, 3);
    const bootstrap = kafka.brokers.split(',');
    assert.equal(bootstrap.length, 3);
    const topic = 'cluster-replicated';
    await ensureTopics(bootstrap, [{ name: topic, partitions: 3, replicas: kafka.replicationFactor }]);

    const admin = new Admin({ clientId: 'cluster-test', bootstrapBrokers: bootstrap });
    const replicas = async () => {
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      return [...metadata.topics.get(topic)!.partitions.values()].map((p) => ({ replicas: p.replicas.length, isr: p.isr.length }));
    };
    try {
      assert.equal(metadata(await admin.metadata({ topics: [] })), 3, 'three brokers');
      assert.deepEqual(await replicas(), [{ replicas: 3, isr: 3 }, { replicas: 3, isr: 3 }, { replicas: 3, isr: 3 }]);

      const send = async (value: string) => {
        const producer = new Producer({ clientId: 'cluster-test', bootstrapBrokers: bootstrap, serializers: stringSerializers, idempotent: true, acks: -1, retries: 2, retryDelay: 200, timeout: 5_000 });
        try {
          await producer.send({ messages: [0, 1, 2].map((partition) => ({ topic, partition, key: value, value })) });
        } finally {
          await producer.close().catch(() => undefined);
        }
      };

      const [first, second] = [kafka.nodes[1]!, kafka.nodes[2]!];
      await first.stop('SIGKILL');
      await waitFor(replicas, (ps) => ps.every((p) => p.isr === 2), 'the killed node out of every ISR', 60_000);
      await send('one node down'); // two in sync: acknowledged

      // Two down: one copy is all there is, and the same write is not acknowledged (the broker
      // answers NOT_ENOUGH_REPLICAS, or, with the controllers' quorum gone too, never).
      await second.stop('SIGKILL');
      await assert.rejects(send('two nodes down'), /Producing messages failed/, 'refused with one node left');

      await Promise.all([first.start(), second.start()]);
      await waitFor(replicas, (ps) => ps.every((p) => p.isr === 3), 'both nodes back in every ISR', 120_000);
      await send('all back');
    } finally {
      await admin.close();
    }
  } finally {
    await kafka.stop();
  }
});

function metadata(m: { brokers: Map<number, unknown> }): number {
  return m.brokers.size;
}
