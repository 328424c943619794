import { Admin } from '@platformatic/kafka';
import { allTopics, dlqTopic, prefixed } from '@oms/contracts';

export interface TopicSpec {
  name: string;
  partitions: number;
}

/** The system's topics and their dead-letter topics, under a prefix. */
export function systemTopics(prefix: string, partitions = 6): TopicSpec[] {
  return allTopics.flatMap((t) => [
    { name: prefixed(prefix, t), partitions },
    { name: dlqTopic(prefixed(prefix, t)), partitions: 1 },
  ]);
}

/** Creates the topics that do not exist yet (explicitly: the broker does not auto-create). */
export async function ensureTopics(brokers: string[], topics: readonly TopicSpec[]): Promise<void> {
  const admin = new Admin({ clientId: 'oms-admin', bootstrapBrokers: brokers, retries: 10, retryDelay: 500 });
  try {
    const existing = new Set(await admin.listTopics());
    const byPartitions = new Map<number, string[]>();
    for (const t of topics) {
      if (existing.has(t.name)) continue;
      byPartitions.set(t.partitions, [...(byPartitions.get(t.partitions) ?? []), t.name]);
    }
    for (const [partitions, names] of byPartitions) {
      try {
        await admin.createTopics({ topics: names, partitions, replicas: 1 });
      } catch (error) {
        // Another process created them first; anything else is real.
        if (!/already exists/i.test(JSON.stringify((error as { errors?: unknown }).errors ?? '') + String(error))) throw error;
      }
    }
  } finally {
    await admin.close();
  }
}
