// Reads the services' Prometheus counters (GET /metrics on each instance's port) to report how well
// Kafka records are batched: records per produce request (outbox relays) and messages per
// consumer batch, per service, summed over its instances.

const COUNTERS = ['oms_outbox_records_published_total', 'oms_outbox_produce_requests_total', 'oms_consumer_messages_total', 'oms_consumer_batches_total'] as const;
type Counters = Record<(typeof COUNTERS)[number], number>;

/** The unlabelled counters of one Prometheus text exposition. */
export function parseCounters(text: string): Counters {
  const found = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Counters;
  for (const line of text.split('\n')) {
    const [name, value] = line.split(' ');
    if (name && (COUNTERS as readonly string[]).includes(name)) found[name as keyof Counters] = Number(value);
  }
  return found;
}

export type Snapshot = Map<string, Counters>;

/** Every instance's counters, by service name. */
export async function snapshotCounters(instances: readonly { service: string; url: string }[]): Promise<Snapshot> {
  const byService: Snapshot = new Map();
  for (const { service, url } of instances) {
    const counters = parseCounters(await (await fetch(`${url}/metrics`)).text());
    const sum = byService.get(service) ?? (Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Counters);
    for (const c of COUNTERS) sum[c] += counters[c];
    byService.set(service, sum);
  }
  return byService;
}

export interface Batching {
  recordsPublished: number;
  recordsPerProduceRequest: number | null;
  messagesConsumed: number;
  messagesPerConsumerBatch: number | null;
}

/** What happened between two snapshots, per service. */
export function batchingBetween(before: Snapshot, after: Snapshot): Record<string, Batching> {
  const ratio = (a: number, b: number) => (b > 0 ? +(a / b).toFixed(2) : null);
  return Object.fromEntries(
    [...after].map(([service, end]) => {
      const start = before.get(service);
      const d = (c: keyof Counters) => end[c] - (start?.[c] ?? 0);
      return [
        service,
        {
          recordsPublished: d('oms_outbox_records_published_total'),
          recordsPerProduceRequest: ratio(d('oms_outbox_records_published_total'), d('oms_outbox_produce_requests_total')),
          messagesConsumed: d('oms_consumer_messages_total'),
          messagesPerConsumerBatch: ratio(d('oms_consumer_messages_total'), d('oms_consumer_batches_total')),
        },
      ];
    }),
  );
}
