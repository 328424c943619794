import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { sql, type QueryExecutorProvider, type RawBuilder } from 'kysely';
import type pg from 'pg';
import { Producer, stringSerializers } from '@platformatic/kafka';
import type { MessageDefinition, TypedEnvelope } from '@oms/contracts';
import type { Static, TSchema } from 'typebox';
import type { Logger } from '../logger.ts';
import { Lease } from '../db/lease.ts';
import { Sleeper } from '../sleeper.ts';
import { outboxProduceRequests, outboxRecordsPublished } from '../metrics.ts';
import { context, messageContext, traceparentOf, type Context } from '../telemetry.ts';

/** A message ready for the outbox: the topic is already prefixed. */
export interface OutgoingMessage {
  topic: string;
  key: string;
  messageId: string;
  value: string;
  /** The W3C traceparent of the span that wrote the message (its consumer's span is that one's child); null when tracing is off. */
  traceparent: string | null;
}

export interface MessageOrigin {
  orderId: string;
  correlationId?: string;
  /** The message being handled, if any: becomes causationId. */
  causedBy?: Pick<TypedEnvelope<unknown>, 'messageId' | 'correlationId'>;
  /** The trace the message continues (its record's traceparent): the handled message's span (causedBy), else the current one (the HTTP request's). */
  trace?: Context;
}

/** Builds the envelope for `def`; the Kafka key is the order id (rule 3: ordering per order). */
export function buildMessage<D extends MessageDefinition>(
  topicPrefix: string,
  def: D,
  payload: Static<D['payload'] & TSchema>,
  origin: MessageOrigin,
): OutgoingMessage {
  const messageId = randomUUID();
  const envelope: TypedEnvelope<unknown> = {
    messageId,
    type: def.type,
    version: def.version,
    orderId: origin.orderId,
    correlationId: origin.correlationId ?? origin.causedBy?.correlationId ?? origin.orderId,
    causationId: origin.causedBy?.messageId ?? null,
    occurredAt: new Date().toISOString(),
    payload,
  };
  const topic = topicPrefix ? `${topicPrefix}.${def.topic}` : def.topic;
  const parent = origin.trace ?? (origin.causedBy ? messageContext(origin.causedBy) : context.active());
  const traceparent = traceparentOf(parent);
  return { topic, key: origin.orderId, messageId, value: JSON.stringify(envelope), traceparent };
}

/**
 * Wakes this process's relay after a transaction that wrote outbox rows has committed. In-process
 * rather than NOTIFY: a NOTIFY inside the transaction takes a global lock across commit, which
 * serialises every writing transaction behind one WAL flush and defeats group commit.
 */
const outboxSignal = new EventEmitter();
export function outboxCommitted(): void {
  outboxSignal.emit('committed');
}

/** The insert of `messages` into the outbox as SQL, to run alone or as one part of a larger statement. */
export function outboxInsert(messages: readonly OutgoingMessage[]): RawBuilder<unknown> {
  return sql`
    insert into outbox (topic, message_key, message_id, value, traceparent)
    select * from unnest(${messages.map((m) => m.topic)}::text[], ${messages.map((m) => m.key)}::text[],
                         ${messages.map((m) => m.messageId)}::uuid[], ${messages.map((m) => m.value)}::text[],
                         ${messages.map((m) => m.traceparent)}::text[])`;
}

/**
 * The insert of `messages` into the outbox as one part of a larger statement, each message only
 * if the CTE `rowsIn` produced a row whose `id` is its key (its order went in), in the order given.
 */
export function outboxInsertKeyedBy(messages: readonly OutgoingMessage[], rowsIn: string): RawBuilder<unknown> {
  return sql`
    insert into outbox (topic, message_key, message_id, value, traceparent)
    select m.topic, m.message_key, m.message_id, m.value, m.traceparent
      from unnest(${messages.map((m) => m.topic)}::text[], ${messages.map((m) => m.key)}::text[],
                  ${messages.map((m) => m.messageId)}::uuid[], ${messages.map((m) => m.value)}::text[],
                  ${messages.map((m) => m.traceparent)}::text[]) with ordinality as m(topic, message_key, message_id, value, traceparent, n)
      join ${sql.table(rowsIn)} p on p.id::text = m.message_key
     order by m.n`;
}

/** Rows waiting to be published, and how old the oldest is (for the metrics). */
export async function outboxBacklog(pool: pg.Pool): Promise<{ rows: number; oldestAgeSeconds: number }> {
  const { rows } = await pool.query<{ rows: number; age: number | null }>('select count(*)::int as rows, extract(epoch from now() - min(created_at))::float8 as age from outbox');
  return { rows: rows[0]?.rows ?? 0, oldestAgeSeconds: Math.max(0, rows[0]?.age ?? 0) };
}

/** Writes messages into the outbox inside the caller's transaction (rule 1: no dual writes). */
export async function enqueue(trx: QueryExecutorProvider, messages: readonly OutgoingMessage[]): Promise<void> {
  if (messages.length === 0) return;
  await outboxInsert(messages).execute(trx);
}

interface OutboxRow {
  id: number;
  topic: string;
  message_key: string;
  value: string;
  traceparent: string | null;
}

/** An outbox row as a Kafka record: its trace, when it has one, in the W3C `traceparent` header. */
const record = (r: OutboxRow) => ({ topic: r.topic, key: r.message_key, value: r.value, ...(r.traceparent ? { headers: { traceparent: r.traceparent } } : {}) });

export interface OutboxRelayOptions {
  pool: pg.Pool;
  brokers: string[];
  clientId: string;
  logger: Logger;
  batchSize?: number;
  /** Poll interval when nothing in this process signals new rows (rows written by another instance). */
  idlePollMs?: number;
  /** How long a commit's wake-up waits for more commits to publish with it. */
  lingerMs?: number;
  /** The relay's leadership lease: a vanished leader is replaced after at most this (plus a fifth of it). */
  leaseMs?: number;
  /** The lease's name (tests: two names give two relays publishing at once). */
  leaseName?: string;
}

export interface OutboxRelay {
  stop(): Promise<void>;
  /** Rows not yet published (for health and tests); published ones wait for the next batch's delete. */
  pending(): Promise<number>;
}

/**
 * Broker answers that no retry can change because they are about the record itself. Topic-level
 * answers (authorization, an invalid topic) are not here: they can be fixed, and every row for
 * that topic would otherwise be set aside; they are retried like an unreachable broker.
 */
const REFUSALS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD']);

/** The broker's refusal of a record somewhere in a (nested) send error, or undefined when the error is about reaching the broker. */
export function recordRefusal(error: unknown, depth = 0): string | undefined {
  if (!error || typeof error !== 'object' || depth > 8) return undefined;
  const e = error as { apiId?: string; canRetry?: boolean; errors?: unknown[]; cause?: unknown; message?: string };
  if (e.apiId && REFUSALS.has(e.apiId) && e.canRetry !== true) return `${e.apiId}: ${e.message ?? ''}`.trim();
  for (const inner of e.errors ?? []) {
    const found = recordRefusal(inner, depth + 1);
    if (found) return found;
  }
  return recordRefusal(e.cause, depth + 1);
}

/**
 * Publishes the outbox in id order, in batches, with an idempotent acks=all producer, then deletes
 * what was sent. A crash between send and delete re-sends those rows; consumers' inboxes drop the
 * duplicates. One relay per database runs at a time, the holder of a lease (db/lease.ts) that a
 * vanished holder loses within seconds.
 *
 * Per-key order does not even depend on there being one relay: a relay sends a row only after
 * every lower row of its select, through one in-order idempotent producer, and a row missing from
 * its select was deleted, which happens only after its send was acknowledged. So the first copy
 * of every row reaches its partition after the first copies of all lower rows with its key; the
 * copies a second relay adds are duplicates, which consumers' inboxes drop. The one exception is
 * deliberate: a row the broker refuses for good moves to outbox_refused without being sent, so the
 * rows behind it go first, and an operator's resend delivers it late.
 */
export function startOutboxRelay(opts: OutboxRelayOptions): OutboxRelay {
  const { pool, logger } = opts;
  const batchSize = opts.batchSize ?? 500;
  const idlePollMs = opts.idlePollMs ?? 250;
  const lingerMs = opts.lingerMs ?? 0;
  const producer = new Producer({
    clientId: opts.clientId,
    bootstrapBrokers: opts.brokers,
    serializers: stringSerializers,
    idempotent: true,
    acks: -1,
    retries: 5,
    retryDelay: 200,
  });
  let running = true;
  // A commit while the relay is busy (not sleeping) makes its next sleep return at once, so those
  // rows do not wait for the idle poll.
  const sleeper = new Sleeper();
  const sleep = (ms: number) => sleeper.sleep(ms);

  // A commit wakes the relay at once, or after `lingerMs` to gather the rows of commits that land
  // together (tried at 3 ms in the benchmark: no less CPU per order, twice the saga latency; so 0).
  let lingering: NodeJS.Timeout | undefined;
  const onCommitted = () => {
    if (!sleeper.sleeping || lingerMs === 0) sleeper.wake();
    else
      lingering ??= setTimeout(() => {
        lingering = undefined;
        sleeper.wake();
      }, lingerMs);
  };
  outboxSignal.on('committed', onCommitted);
  const leaseMs = opts.leaseMs ?? 5_000;
  const lease = new Lease({ pool, name: opts.leaseName ?? 'outbox-relay', ttlMs: leaseMs, holder: `${opts.clientId}:${randomUUID().slice(0, 8)}` });
  let leading = false;

  // Published rows are deleted by the next select (one statement instead of two per batch); the
  // select skips them, since it sees the table as it was before its own delete. A crash before
  // that delete re-sends them, and consumers' inboxes drop the duplicates.
  let published: number[] = [];
  const deleteSent = 'delete from outbox where id = any($1::bigint[])';
  const deletePublished = async () => {
    if (published.length === 0) return;
    await pool.query({ name: 'outbox-sent', text: deleteSent, values: [published] });
    published = [];
  };

  async function publishBatch(): Promise<number> {
    sleeper.clear(); // what committed before this select is in it
    const { rows } = await pool.query<OutboxRow>({
      name: 'outbox-next',
      text: `with sent as (${deleteSent})
             select id, topic, message_key, value, traceparent from outbox where id <> all($1::bigint[]) order by id limit $2`,
      values: [published, batchSize],
    });
    published = [];
    if (rows.length === 0) return 0;
    try {
      await producer.send({ messages: rows.map(record) });
      published = rows.map((r) => r.id);
      outboxProduceRequests.inc();
      outboxRecordsPublished.inc(rows.length);
    } catch (error) {
      if (!recordRefusal(error)) throw error; // the broker is away: retried with backoff
      await publishOneByOne(rows);
    }
    return rows.length;
  }

  /**
   * A batch the broker refused a record of: each row alone, in order; a refused one moves to
   * outbox_refused with the reason (and is logged), the others are sent. A row that fails for
   * another reason stops here, as a whole batch would.
   */
  async function publishOneByOne(rows: readonly OutboxRow[]): Promise<void> {
    for (const r of rows) {
      try {
        await producer.send({ messages: [record(r)] });
        published.push(r.id);
        outboxProduceRequests.inc();
        outboxRecordsPublished.inc();
      } catch (error) {
        const refusal = recordRefusal(error);
        if (!refusal) throw error;
        logger.error({ outboxId: r.id, topic: r.topic, key: r.message_key, bytes: Buffer.byteLength(r.value), reason: refusal }, 'the broker refused an outbox record; it is kept in outbox_refused');
        await pool.query({
          name: 'outbox-refuse',
          text: `with moved as (delete from outbox where id = $1 returning *)
                 insert into outbox_refused (id, topic, message_key, message_id, value, created_at, reason, traceparent)
                 select id, topic, message_key, message_id, value, created_at, $2, traceparent from moved`,
          values: [r.id, refusal.slice(0, 2_000)],
        });
      }
    }
  }

  const loop = (async () => {
    let backoff = 100;
    while (running) {
      try {
        const holds = await lease.hold();
        if (holds !== leading) logger.info({ holder: lease.holder }, holds ? 'this instance now relays the outbox' : 'another instance relays the outbox');
        leading = holds;
        if (!holds) {
          // What this instance sent as leader is deleted, or the new leader sends it all again.
          await deletePublished();
          await sleep(leaseMs / 5);
          continue;
        }
        const sent = await publishBatch();
        backoff = 100;
        // Not a full batch: the outbox is drained up to what committed before the select, and a
        // commit since then has woken the sleeper, so the next sleep returns at once.
        if (sent < batchSize) await sleep(idlePollMs);
      } catch (error) {
        // Kafka or PostgreSQL unavailable: the rows stay in the outbox; try again with backoff.
        logger.warn({ err: error }, 'outbox relay failed; will retry');
        await sleep(backoff + Math.random() * backoff);
        // Never so long that the lease lapses while waiting (it is renewed between attempts).
        backoff = Math.min(backoff * 2, 5_000, leaseMs / 6);
      }
    }
  })();

  return {
    async stop() {
      running = false;
      outboxSignal.off('committed', onCommitted);
      sleeper.wake();
      await loop;
      await deletePublished().catch(() => undefined); // or the next start sends them again
      await lease.release().catch(() => undefined); // or another instance waits for it to expire
      await producer.close().catch(() => undefined);
    },
    async pending() {
      const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from outbox where id <> all($1::bigint[])', [published]);
      return rows[0]?.n ?? 0;
    },
  };
}
