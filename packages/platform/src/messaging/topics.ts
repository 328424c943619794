import { Admin } from '@platformatic/kafka';
import { allTopics, dlqTopic, prefixed } from '@oms/contracts';

export interface TopicSpec {
  name: string;
  partitions: number;
  /** Copies of each partition (default 1); with 3, the brokers' `min.insync.replicas=2` applies. */
  replicas?: number;
}

/** The system's topics and their dead-letter topics, under a prefix. */
export function systemTopics(prefix: string, partitions = 6, replicas = 1): TopicSpec[] {
  return allTopics.flatMap((t) => [
    { name: prefixed(prefix, t), partitions, replicas },
    { name: dlqTopic(prefixed(prefix, t)), partitions: 1, replicas },
  ]);
}

/** Creates the topics that do not exist yet (explicitly: the broker does not auto-create). */
export async function ensureTopics(brokers: string[], topics: readonly TopicSpec[]): Promise<void> {
  const admin = new Admin({ clientId: 'oms-admin', bootstrapBrokers: brokers, retries: 10, retryDelay: 500 });
  try {
    const existing = new Set(await admin.listTopics());
    const byShape = new Map<string, string[]>();
    for (const t of topics) {
      if (existing.has(t.name)) continue;
      const shape = `${t.partitions}/${t.replicas ?? 1}`;
      byShape.set(shape, [...(byShape.get(shape) ?? []), t.name]);
    }
    for (const [shape, names] of byShape) {
      const [partitions, replicas] = shape.split('/').map(Number) as [number, number];
      try {
        await admin.createTopics({ topics: names, partitions, replicas });
      } catch (error) {
        // Another process created them first; anything else is real.
        if (!/already exists/i.test(JSON.stringify((error as { errors?: unknown }).errors ?? '') + String(error))) throw error;
      }
    }
  } finally {
    await admin.close();
  }
}
