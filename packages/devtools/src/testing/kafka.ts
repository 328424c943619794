import { Admin } from '@platformatic/kafka';
import { prefixed } from '@oms/contracts';
import { waitFor } from './index.ts';

/**
 * Waits until each consumer group has committed everything on its topic (lag 0): the proof that
 * messages injected by a test have been applied, without sleeping.
 */
export async function waitForConsumersCaughtUp(brokers: string[], prefix: string, groups: Record<string, string>, timeoutMs = 30_000): Promise<void> {
  const admin = new Admin({ clientId: 'oms-test-lag', bootstrapBrokers: brokers });
  try {
    const lag = async () => {
      let total = 0n;
      for (const [group, topic] of Object.entries(groups)) {
        const name = prefixed(prefix, topic);
        const meta = await admin.metadata({ topics: [name] });
        const partitions = meta.topics.get(name)?.partitionsCount ?? 0;
        const ends = await admin.listOffsets({ topics: [{ name, partitions: Array.from({ length: partitions }, (_, i) => ({ partitionIndex: i, timestamp: -1n })) }] });
        const committed = await admin.listConsumerGroupOffsets({ groups: [{ groupId: prefixed(prefix, group), topics: [{ name, partitionIndexes: Array.from({ length: partitions }, (_, i) => i) }] }] });
        const done = new Map(committed[0]?.topics.find((t) => t.name === name)?.partitions.map((p) => [p.partitionIndex, p.committedOffset]) ?? []);
        for (const p of ends[0]?.partitions ?? []) {
          const c = done.get(p.partitionIndex) ?? -1n;
          total += p.offset - (c < 0n ? 0n : c);
        }
      }
      return Number(total);
    };
    await waitFor(lag, (l) => l === 0, `consumer groups ${Object.keys(groups).join(', ')} to catch up`, timeoutMs);
  } finally {
    await admin.close();
  }
}
