import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

// The services' own metrics (sagas, deliveries) use the same classes, on the same registry.
export { Counter, Gauge, Histogram } from 'prom-client';

/**
 * The process's Prometheus metrics (`GET /metrics` on every service's own port; not routed by the
 * gateway). Process metrics (CPU, resident memory, event-loop lag, GC) come from prom-client; the
 * messaging ones below say how well records are batched: records per produce request and
 * messages per consumer batch, the two numbers that decide the broker's cost per order.
 */
export const metrics = new Registry();
collectDefaultMetrics({ register: metrics, prefix: 'oms_' });

export const outboxRecordsPublished = new Counter({ name: 'oms_outbox_records_published_total', help: 'Outbox rows published to Kafka', registers: [metrics] });
export const outboxProduceRequests = new Counter({ name: 'oms_outbox_produce_requests_total', help: 'Produce calls the outbox relay made (one per batch of rows)', registers: [metrics] });
export const consumerMessages = new Counter({ name: 'oms_consumer_messages_total', help: 'Kafka messages the consumer applied or parked', registers: [metrics] });
export const consumerBatches = new Counter({ name: 'oms_consumer_batches_total', help: 'Consumer batches, each applied in one transaction', registers: [metrics] });
export const consumerBatchSeconds = new Histogram({
  name: 'oms_consumer_batch_duration_seconds',
  help: 'Time to apply one consumer batch (transaction included)',
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [metrics],
});

export const httpRequests = new Counter({ name: 'oms_http_requests_total', help: 'HTTP requests answered, by route (its pattern) and status', labelNames: ['method', 'route', 'status'], registers: [metrics] });
export const httpRequestSeconds = new Histogram({
  name: 'oms_http_request_duration_seconds',
  help: 'Time to answer an HTTP request, by route (its pattern)',
  labelNames: ['method', 'route'],
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metrics],
});

/** What the service's scrape-time gauges read: its outbox, its parked dead letters, its consumer's lag. */
export interface ServiceObservations {
  outbox(): Promise<{ rows: number; oldestAgeSeconds: number }>;
  parkedDeadLetters(): Promise<number>;
  consumerLag(): Promise<{ topic: string; partition: number; lag: number }[]>;
}
let observed: ServiceObservations | undefined;

/** The running service's sources for the gauges below, read at each scrape; the returned function lets go. */
export function observeService(sources: ServiceObservations): () => void {
  observed = sources;
  return () => {
    if (observed === sources) observed = undefined;
  };
}

/** A read shared by the gauges of one scrape (they are collected one after the other). */
function perScrape<T>(read: (o: ServiceObservations) => Promise<T>): () => Promise<T | undefined> {
  let last: { at: number; value: Promise<T | undefined> } | undefined;
  return () => {
    const o = observed;
    if (!o) return Promise.resolve(undefined);
    if (!last || Date.now() - last.at > 1_000) last = { at: Date.now(), value: read(o).catch(() => undefined) }; // a failed read leaves the gauge as it was
    return last.value;
  };
}
const outboxNow = perScrape((o) => o.outbox());
new Gauge({
  name: 'oms_outbox_backlog_rows',
  help: 'Outbox rows not yet published to Kafka',
  registers: [metrics],
  async collect() {
    const o = await outboxNow();
    if (o) this.set(o.rows);
  },
});
new Gauge({
  name: 'oms_outbox_oldest_age_seconds',
  help: 'Age of the oldest outbox row not yet published (0 when none waits)',
  registers: [metrics],
  async collect() {
    const o = await outboxNow();
    if (o) this.set(o.oldestAgeSeconds);
  },
});
const parkedNow = perScrape((o) => o.parkedDeadLetters());
new Gauge({
  name: 'oms_dead_letters_parked',
  help: 'Messages parked in this service, waiting for an operator',
  registers: [metrics],
  async collect() {
    const n = await parkedNow();
    if (n !== undefined) this.set(n);
  },
});
const lagNow = perScrape((o) => o.consumerLag());
new Gauge({
  name: 'oms_consumer_lag_messages',
  help: 'Messages not yet applied, per partition this instance is assigned',
  labelNames: ['topic', 'partition'],
  registers: [metrics],
  async collect() {
    const lag = await lagNow();
    if (!lag) return;
    this.reset();
    for (const p of lag) this.set({ topic: p.topic, partition: String(p.partition) }, p.lag);
  },
});
