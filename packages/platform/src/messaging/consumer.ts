import { consumerBatches, consumerBatchSeconds, consumerMessages } from '../metrics.ts';
import { Consumer, MessagesStreamModes, MessagesStreamFallbackModes, Producer, stringDeserializers, stringSerializers, type Message } from '@platformatic/kafka';
import type { Kysely } from 'kysely';
import { decodeMessage, dlqTopic, UnreadableMessageError } from '@oms/contracts';
import { isTransient } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { backoffMs, type RetryPolicy } from '../retry.ts';
import { applyInTransaction, type DecodedMessage, type MessageHandler } from './apply.ts';
import { parkBehind, parkFailed, storableText, type ParkedRecord } from './dead-letters.ts';
import { context, logFields, messageContext } from '../telemetry.ts';
import { MessageSpans } from './message-spans.ts';

export { applyInTransaction, batchHandler, messageApplier, type Applied, type BatchContext, type DecodedMessage, type HandlerContext, type MessageHandler } from './apply.ts';

/** Transient failures (database or broker down) are retried forever, ~0.1 s doubling to ~5 s, with jitter. */
const transientRetry: RetryPolicy = { initialIntervalMs: 100, backoffCoefficient: 2, maxIntervalMs: 5_000, maxAttempts: Infinity };

// Keys and values stay bytes: a record is decoded (strictly) by decodeMessage, and parked exactly
// as received when it cannot be.
type KafkaMessage = Message<Buffer | null, Buffer | null, string, string>;
const bytes = (data?: Buffer) => data ?? null;
const rawDeserializers = { ...stringDeserializers, key: bytes, value: bytes };
const rawSerializers = { ...stringSerializers, key: (data?: Buffer | null) => data ?? undefined, value: (data?: Buffer | null) => data ?? undefined };

export interface ConsumerOptions<DB> {
  db: Kysely<DB>;
  brokers: string[];
  /** Unprefixed group id, e.g. `inventory`. */
  groupId: string;
  /** Unprefixed topic names. */
  topics: readonly string[];
  topicPrefix: string;
  handler: MessageHandler<DB>;
  logger: Logger;
  /** Messages applied in one database transaction at most. */
  maxBatch?: number;
  /** Attempts for a message whose handler keeps failing (not transiently) before it is dead-lettered. */
  maxAttempts?: number;
  /** Offsets are committed at most this often (default 100 ms). */
  commitIntervalMs?: number;
  /** Called after each processed batch (tests, metrics). */
  onBatch?: (size: number) => void;
  /**
   * A name for this instance that stays the same across its restarts (Kafka's static membership,
   * KIP-345): a restarted instance takes its partitions back at once, without a rebalance of the
   * whole group. Unique among the live instances of a service; none = dynamic membership.
   */
  groupInstanceId?: string;
}

export interface RunningConsumer {
  stop(): Promise<void>;
  isConnected(): boolean;
  /** Messages not yet applied, per partition this instance is assigned (log end offset − next offset to apply). */
  lag(): Promise<{ topic: string; partition: number; lag: number }[]>;
}

function withPrefix(prefix: string, name: string) {
  return prefix ? `${prefix}.${name}` : name;
}

function parkedRecord(m: KafkaMessage, decoded?: DecodedMessage): ParkedRecord {
  return {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    key: m.key ?? null,
    value: m.value ?? null,
    ...(decoded ? { orderId: decoded.orderId, messageId: decoded.messageId, type: decoded.type } : {}),
  };
}

/**
 * Consumes topics with a group, applying each poll's messages in one transaction together with
 * their inbox entries and outbox rows, then commits the offsets. Unreadable messages and messages
 * whose handler fails for good go to `<topic>.dlq` with the reason; the partition keeps moving.
 * Transient failures (database or broker down) are retried with backoff, never dropped.
 */
export async function startConsumer<DB>(opts: ConsumerOptions<DB>): Promise<RunningConsumer> {
  const { logger, topicPrefix } = opts;
  const maxBatch = opts.maxBatch ?? 200;
  const maxAttempts = opts.maxAttempts ?? 3;
  const commitIntervalMs = opts.commitIntervalMs ?? 100;
  const groupId = withPrefix(topicPrefix, opts.groupId);
  const dlqProducer = new Producer({ clientId: `${groupId}-dlq-${process.pid}`, bootstrapBrokers: opts.brokers, serializers: rawSerializers, idempotent: true, acks: -1, retries: 3 });
  const dlqCopies = new Set<Promise<void>>();
  const queue: KafkaMessage[] = [];
  let running = true;
  let wake: (() => void) | undefined;
  const highWater = maxBatch * 4;
  const spans = new MessageSpans<KafkaMessage>(groupId);
  const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  // The Kafka client gives up on a request after a few retries (say the broker is restarting) and
  // ends its stream with an error. Then the consumer and its stream are made anew, with backoff,
  // from the committed offsets: what was queued but not applied is dropped and fetched again.
  type Connection = { consumer: Consumer<Buffer | null, Buffer | null, string, string>; stream: Awaited<ReturnType<Consumer<Buffer | null, Buffer | null, string, string>['consume']>> };
  async function connect(): Promise<Connection> {
    const consumer = new Consumer({
      groupId,
      clientId: `${groupId}-${process.pid}`,
      bootstrapBrokers: opts.brokers,
      deserializers: rawDeserializers,
      ...(opts.groupInstanceId ? { groupInstanceId: withPrefix(topicPrefix, opts.groupInstanceId) } : {}),
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 15_000,
      maxWaitTime: 500,
      retries: 10,
      retryDelay: 500,
    });
    try {
      const stream = await consumer.consume({
        topics: opts.topics.map((t) => withPrefix(topicPrefix, t)),
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: MessagesStreamFallbackModes.EARLIEST,
        autocommit: false,
      });
      stream.on('data', (m: KafkaMessage) => {
        queue.push(m);
        if (queue.length >= highWater) stream.pause();
        wake?.();
      });
      stream.on('error', (error: Error) => {
        logger.error({ err: error }, 'kafka consumer stream failed; reconnecting');
        void reconnect();
      });
      return { consumer, stream };
    } catch (error) {
      await consumer.close(true).catch(() => undefined);
      throw error;
    }
  }

  async function connectWithRetry(): Promise<Connection> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await connect();
      } catch (error) {
        if (!running) throw error;
        if (attempt === 1 || attempt % 10 === 0) logger.warn({ err: error, attempt }, 'Kafka not reachable; retrying');
        await pause(backoffMs(transientRetry, attempt));
      }
    }
  }

  let connection = await connectWithRetry();
  let reconnecting: Promise<void> | undefined;
  function reconnect(): Promise<void> {
    reconnecting ??= (async () => {
      const old = connection;
      await old.stream.close().catch(() => undefined);
      await old.consumer.close(true).catch(() => undefined);
      queue.length = 0;
      if (!running) return;
      connection = await connectWithRetry();
      logger.info('kafka consumer reconnected');
    })()
      .catch((error: unknown) => logger.warn({ err: error }, 'kafka consumer reconnect stopped'))
      .finally(() => (reconnecting = undefined));
    return reconnecting;
  }

  /**
   * Parks a message that cannot be applied (in the service's dead_letters table, for the admin
   * API, bytes as received) and copies it to `<topic>.dlq` with the reason, for tools that watch
   * topics. Parking is retried while the database is away; it cannot fail on the record's content
   * (see insertRow). The copy is a courtesy: it runs beside consumption, and a copy that fails (no
   * such topic, a broker refusing the record) is logged, never waited for.
   */
  async function deadLetter(m: KafkaMessage, reason: string, decoded?: DecodedMessage): Promise<void> {
    spans.failed(m, `dead-lettered: ${reason}`);
    logger.warn({ ...(decoded ? logFields(messageContext(decoded)) : {}), topic: m.topic, partition: m.partition, offset: String(m.offset), orderId: decoded?.orderId, reason }, 'message dead-lettered');
    try {
      await retryTransientOnly(() => parkFailed(opts.db, parkedRecord(m, decoded), reason));
    } catch (error) {
      if (!running) throw error;
      // Not the database being away: something about this row. Park what surely fits (the bytes,
      // no envelope fields) rather than stop the partition.
      logger.error({ err: error, topic: m.topic, offset: String(m.offset) }, 'parking a dead letter failed; parking its bytes alone');
      // The order id stays (a validated lower-case UUID): later messages of the order must still wait behind this one.
      const bare = { ...parkedRecord(m), ...(decoded ? { orderId: decoded.orderId } : {}) };
      await retryTransientOnly(() => parkFailed(opts.db, bare, `${reason} (envelope fields dropped: ${(error as Error).message})`));
    }
    const copy = dlqProducer
      .send({
        messages: [
          {
            topic: dlqTopic(m.topic),
            key: m.key,
            value: m.value,
            headers: {
              'x-dlq-reason': storableText(reason, 1_000),
              'x-original-topic': m.topic,
              'x-original-partition': String(m.partition),
              'x-original-offset': String(m.offset),
              'x-consumer-group': groupId,
            },
          },
        ],
      })
      .then(
        () => undefined,
        (error: unknown) => logger.warn({ err: error, topic: dlqTopic(m.topic), offset: String(m.offset) }, 'copy to the dead-letter topic failed (the message is parked in the database)'),
      )
      .finally(() => dlqCopies.delete(copy));
    dlqCopies.add(copy);
  }

  /** Retries `fn` while it fails transiently (or, with `always`, whatever the failure) and the consumer runs. */
  async function retryWhile<T>(fn: () => Promise<T>, always: boolean): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (!running || (!always && !isTransient(error))) throw error;
        logger.warn({ err: error, attempt }, 'transient failure; retrying');
        await pause(backoffMs(transientRetry, attempt));
      }
    }
  }
  const retryTransient = <T>(fn: () => Promise<T>) => retryWhile(fn, true);
  const retryTransientOnly = <T>(fn: () => Promise<T>) => retryWhile(fn, false);

  /**
   * Applies a batch in one transaction; returns the orders whose messages were held back behind a
   * parked one. A batch of one runs in its message's context (its log lines carry its order id
   * and trace id); a larger one serves many orders at once.
   */
  async function apply(batch: readonly DecodedMessage[]): Promise<ReadonlySet<string>> {
    const run = () => opts.db.transaction().execute((trx) => applyInTransaction(trx, opts.handler, topicPrefix, batch, true));
    const { after, held } = batch.length === 1 ? await context.with(messageContext(batch[0]!), run) : await run();
    after();
    return held;
  }

  /**
   * Applies one message alone, retrying transient failures; dead-letters it after maxAttempts
   * other failures, and parks it behind its order's dead letter if there is one.
   */
  async function applyAlone(m: KafkaMessage, decoded: DecodedMessage): Promise<void> {
    let failures = 0;
    for (;;) {
      try {
        const held = await retryTransientOnly(() => apply([decoded]));
        // Held, and nothing parked any more when parking it behind (replayed meanwhile): apply again.
        if (held.size === 0 || (await parkedBehind(m, decoded))) return;
      } catch (error) {
        if (!running) throw error;
        if (++failures >= maxAttempts) {
          await deadLetter(m, `handler failed ${failures} times: ${(error as Error).message}`, decoded);
          return;
        }
        await pause(50 * failures);
      }
    }
  }

  /** Parks a message behind its order's parked one; false when nothing is parked for the order any more. */
  const parkedBehind = (m: KafkaMessage, decoded: DecodedMessage) =>
    retryTransient(() => parkBehind(opts.db, { ...parkedRecord(m, decoded), orderId: decoded.orderId }));

  async function processBatch(batch: KafkaMessage[]): Promise<void> {
    const readable: { raw: KafkaMessage; decoded: DecodedMessage }[] = [];
    for (const m of batch) {
      spans.begin(m);
      try {
        const decoded = decodeMessage(m.value);
        spans.decoded(m, decoded);
        readable.push({ raw: m, decoded });
      } catch (error) {
        if (!(error instanceof UnreadableMessageError)) throw error;
        await deadLetter(m, error.message);
      }
    }
    if (readable.length > 0) {
      let held: ReadonlySet<string>;
      try {
        held = await retryTransientOnly(() => apply(readable.map((r) => r.decoded)));
      } catch (error) {
        if (!running) throw error;
        // One bad message must not block the others: apply them one by one to isolate it. Once it
        // is parked, the messages after it for the same order are held behind it.
        logger.warn({ err: error, size: readable.length }, 'batch failed; applying its messages one by one');
        for (const r of readable) await applyAlone(r.raw, r.decoded);
        held = new Set();
      }
      // Per-order ordering: a message for an order with a parked message waits behind it, or is
      // applied after all if that one was replayed in the meantime.
      for (const r of readable) {
        if (!held.has(r.decoded.orderId)) continue;
        spans.parkedBehind(r.raw);
        if (!(await parkedBehind(r.raw, r.decoded))) await applyAlone(r.raw, r.decoded);
      }
    }
    spans.endAll();
    commitOffsets(batch);
  }

  // Offsets are committed at most every `commitIntervalMs`, in one request for every partition
  // applied since the last one: a commit per batch was a Kafka request (and a write to
  // __consumer_offsets) per few messages. Only applied messages' offsets are committed; a crash
  // re-delivers at most the last interval's messages, and the inbox drops them.
  const applied = new Map<string, KafkaMessage>();
  // The next offset to apply per partition, for the lag (kept across commits).
  const positions = new Map<string, bigint>();
  let commitTimer: NodeJS.Timeout | undefined;
  let lastCommitAt = 0;
  function commitOffsets(batch: KafkaMessage[]): void {
    for (const m of batch) {
      const k = `${m.topic}:${m.partition}`;
      const prev = applied.get(k);
      if (!prev || prev.offset < m.offset) applied.set(k, m);
      if ((positions.get(k) ?? -1n) <= m.offset) positions.set(k, m.offset + 1n);
    }
    commitTimer ??= setTimeout(() => {
      commitTimer = undefined;
      void flushOffsets();
    }, Math.max(0, lastCommitAt + commitIntervalMs - Date.now()));
  }
  async function flushOffsets(): Promise<void> {
    if (applied.size === 0) return;
    const offsets = [...applied.values()].map((m) => ({ topic: m.topic, partition: m.partition, offset: m.offset + 1n, leaderEpoch: m.leaderEpoch }));
    applied.clear();
    lastCommitAt = Date.now();
    try {
      await connection.consumer.commit({ offsets });
    } catch (error) {
      // Lost a partition in a rebalance, or the broker is away: the partition's next owner
      // re-reads these messages, and the inbox drops them.
      logger.warn({ err: error }, 'offset commit failed');
    }
  }

  const loop = (async () => {
    while (running) {
      if (queue.length === 0) {
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = undefined;
        continue;
      }
      const batch = queue.splice(0, maxBatch);
      if (connection.stream.isPaused() && queue.length < highWater / 2) connection.stream.resume();
      try {
        const end = consumerBatchSeconds.startTimer();
        await processBatch(batch);
        end();
        consumerBatches.inc();
        consumerMessages.inc(batch.length);
        opts.onBatch?.(batch.length);
      } catch (error) {
        if (!running) break;
        // Never skip a batch: put it back and try again, or a later commit would pass over it.
        spans.endAll(`batch failed, retried: ${(error as Error).message}`);
        logger.error({ err: error }, 'consumer batch failed; retrying it');
        queue.unshift(...batch);
        await pause(1_000);
      }
    }
  })();

  return {
    isConnected: () => connection.consumer.isConnected(),
    async lag() {
      const c = connection.consumer;
      const assigned = (c.assignments ?? []).filter((a) => a.partitions.length > 0);
      if (assigned.length === 0) return [];
      const ends = await c.listOffsets({ topics: assigned.map((a) => a.topic), partitions: Object.fromEntries(assigned.map((a) => [a.topic, a.partitions])) });
      // Partitions nothing was applied from since this instance started: from their committed offsets.
      const unknown = assigned.map((a) => ({ topic: a.topic, partitions: a.partitions.filter((p) => !positions.has(`${a.topic}:${p}`)) })).filter((a) => a.partitions.length > 0);
      const committed = unknown.length > 0 ? await c.listCommittedOffsets({ topics: unknown }) : new Map<string, bigint[]>();
      return assigned.flatMap((a) =>
        a.partitions.map((partition) => {
          const end = ends.get(a.topic)?.[partition] ?? 0n;
          const next = positions.get(`${a.topic}:${partition}`) ?? committed.get(a.topic)?.[partition] ?? 0n;
          return { topic: a.topic, partition, lag: Number(end > next && next >= 0n ? end - next : next < 0n ? end : 0n) };
        }),
      );
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
      await reconnecting;
      clearTimeout(commitTimer);
      await flushOffsets();
      await connection.stream.close().catch(() => undefined);
      await connection.consumer.close(true).catch(() => undefined);
      await Promise.allSettled([...dlqCopies]);
      await dlqProducer.close().catch(() => undefined);
    },
  };
}
