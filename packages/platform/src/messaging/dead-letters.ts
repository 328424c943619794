import { sql, type Kysely, type Transaction } from 'kysely';
import { decodeMessage } from '@oms/contracts';
import { AppError } from '../errors.ts';

// Dead letters live in the consuming service's own database, so parking a message, the messages
// parked behind it, and replaying it are transactions like any other. Functions take `Kysely<any>`
// because the table belongs to the platform, not to the service's typed schema (a Transaction is
// a Kysely too, so these take either).
/* eslint-disable @typescript-eslint/no-explicit-any -- see above */
export type AnyDb = Kysely<any>;

export interface DeadLetter {
  id: number;
  topic: string;
  partition: number;
  offset: string;
  messageKey: string | null;
  orderId: string | null;
  messageId: string | null;
  type: string | null;
  /** The value as received: its text, or (valueEncoding `base64`) its bytes when they are not UTF-8 text. */
  value: string;
  valueEncoding: 'utf8' | 'base64';
  /** The record had no value at all (a null value, not an empty one). */
  valueIsNull: boolean;
  reason: string;
  /** false: parked only because an earlier message for the same order is parked. */
  failed: boolean;
  status: 'PARKED' | 'REPLAYED' | 'DISCARDED';
  attempts: number;
  createdAt: string;
  resolvedAt: string | null;
}

interface Row {
  id: string;
  topic: string;
  partition: number;
  offset: string;
  message_key: string | null;
  order_id: string | null;
  message_id: string | null;
  type: string | null;
  value: string;
  value_encoding: 'utf8' | 'base64';
  raw_value: Buffer | null;
  raw_key: Buffer | null;
  reason: string;
  failed: boolean;
  status: DeadLetter['status'];
  attempts: number;
  created_at: Date;
  resolved_at: Date | null;
}

const toDeadLetter = (r: Row): DeadLetter => ({
  id: Number(r.id),
  topic: r.topic,
  partition: r.partition,
  offset: String(r.offset),
  messageKey: r.message_key,
  orderId: r.order_id,
  messageId: r.message_id,
  type: r.type,
  value: r.value,
  valueEncoding: r.value_encoding,
  // (Rows parked before raw bytes were kept have no raw_value but a value.)
  valueIsNull: r.raw_value === null && r.value === '',
  reason: r.reason,
  failed: r.failed,
  status: r.status,
  attempts: r.attempts,
  createdAt: r.created_at.toISOString(),
  resolvedAt: r.resolved_at?.toISOString() ?? null,
});

/** A Kafka record as far as parking needs it: its bytes exactly as received. */
export interface ParkedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  /** From the envelope, when it could be read. */
  orderId?: string;
  messageId?: string;
  type?: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Text a database column can hold: NUL characters (which PostgreSQL text cannot store) become U+FFFD. */
export function storableText(text: string, max = Infinity): string {
  const clean = text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
  return clean.length > max ? clean.slice(0, max) : clean;
}

/** For people: the bytes as text when they are UTF-8 without NUL characters, else as base64. */
function readable(bytes: Buffer | null): { text: string; encoding: 'utf8' | 'base64' } {
  if (!bytes) return { text: '', encoding: 'utf8' };
  try {
    const text = strictUtf8.decode(bytes);
    if (!text.includes('\u0000')) return { text, encoding: 'utf8' };
  } catch {
    // not UTF-8: base64 below
  }
  return { text: bytes.toString('base64'), encoding: 'base64' };
}

/** Serialises parking behind, and replaying, one order's dead letters (across instances too). */
async function lockOrder(trx: AnyDb, orderId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`dead-letters:${orderId}`}))`.execute(trx);
}

/** The id of the oldest message still parked for an order: the one the others wait behind. */
async function oldestParked(db: AnyDb, orderId: string): Promise<number | undefined> {
  const { rows } = await sql<{ id: string }>`
    select id from dead_letters where order_id = ${orderId} and status = 'PARKED' order by id limit 1`.execute(db);
  return rows[0] ? Number(rows[0].id) : undefined;
}

async function rowById(db: AnyDb, id: number): Promise<Row> {
  const { rows } = await sql<Row>`select * from dead_letters where id = ${id}`.execute(db);
  if (!rows[0]) throw new AppError('DEAD_LETTER_NOT_FOUND', `dead letter ${id} does not exist`);
  return rows[0];
}

/**
 * Every text column gets storable text (whatever bytes arrived, the row can be written: a message
 * that cannot even be parked would stop its consumer); the bytes themselves go to bytea columns.
 */
function insertRow(db: AnyDb, m: ParkedRecord, reason: string, failed: boolean) {
  const value = readable(m.value);
  const key = m.key ? storableText(m.key.toString('utf8'), 1_000) : null;
  return sql<{ id: string }>`
    insert into dead_letters (topic, partition, "offset", message_key, order_id, message_id, type, value, value_encoding, raw_key, raw_value, reason, failed)
    values (${storableText(m.topic)}, ${m.partition}, ${m.offset.toString()}, ${key}, ${m.orderId ?? null}, ${m.messageId ?? null},
            ${m.type === undefined ? null : storableText(m.type, 200)}, ${value.text}, ${value.encoding}, ${m.key}, ${m.value},
            ${storableText(reason, 2_000)}, ${failed})
    on conflict (topic, partition, "offset") do nothing
    returning id`.execute(db);
}

/** Parks a message that failed (unreadable, or its handler failed for good). */
export async function parkFailed(db: AnyDb, m: ParkedRecord, reason: string): Promise<void> {
  await insertRow(db, m, reason, true);
}

/**
 * Parks a message behind its order's parked one, if that one is still parked (a replay may have
 * just finished). Returns false when nothing is parked for the order any more: apply it then.
 */
export async function parkBehind(db: AnyDb, m: ParkedRecord & { orderId: string }): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    await lockOrder(trx, m.orderId);
    const head = await oldestParked(trx, m.orderId);
    if (head === undefined) return false;
    await insertRow(trx, m, `waiting behind dead letter ${head} for order ${m.orderId}`, false);
    return true;
  });
}

/** How many are parked (the partial index of parked letters answers it). */
export async function countParked(db: AnyDb): Promise<number> {
  const { rows } = await sql<{ parked: number }>`select count(*)::int as parked from dead_letters where status = 'PARKED'`.execute(db);
  return rows[0]!.parked;
}

export async function listDeadLetters(db: AnyDb, opts: { status?: DeadLetter['status']; orderId?: string; afterId?: number; limit: number }): Promise<DeadLetter[]> {
  const { rows } = await sql<Row>`
    select * from dead_letters
     where (${opts.status ?? null}::text is null or status = ${opts.status ?? null})
       and (${opts.orderId ?? null}::text is null or order_id = ${opts.orderId ?? null})
       and id > ${opts.afterId ?? 0}
     order by id limit ${opts.limit}`.execute(db);
  return rows.map(toDeadLetter);
}

export async function getDeadLetter(db: AnyDb, id: number): Promise<DeadLetter> {
  return toDeadLetter(await rowById(db, id));
}

/** The row, if it may be replayed now (parked, and the oldest parked of its order). */
async function assertReplayable(db: AnyDb, id: number): Promise<Row> {
  const row = await rowById(db, id);
  if (row.status !== 'PARKED') throw new AppError('DEAD_LETTER_NOT_PARKED', `dead letter ${id} is ${row.status}`);
  const head = row.order_id ? await oldestParked(db, row.order_id) : id;
  if (head !== id) throw new AppError('DEAD_LETTER_BLOCKED', `dead letter ${head} for order ${row.order_id} is parked ahead of ${id}`, { blockedBy: head });
  return row;
}

/** Marks a parked message as given up; the next one parked for its order becomes the head. */
export async function discardDeadLetter(db: AnyDb, id: number): Promise<DeadLetter> {
  const { rows } = await sql<Row>`
    update dead_letters set status = 'DISCARDED', resolved_at = now() where id = ${id} and status = 'PARKED' returning *`.execute(db);
  if (!rows[0]) {
    await getDeadLetter(db, id); // 404 when unknown
    throw new AppError('DEAD_LETTER_NOT_PARKED', `dead letter ${id} is not parked`);
  }
  return toDeadLetter(rows[0]);
}

/** Applies one decoded message inside `trx` (inbox, handler, outbox); supplied by the consumer. */
export type ApplyInTransaction = (trx: Transaction<any>, message: ReturnType<typeof decodeMessage>) => Promise<() => void>;

export interface ReplayResult {
  /** Ids applied, in order: the one asked for, then those parked behind it for the same order. */
  replayed: number[];
}

/**
 * Replays a parked message after a fix: applies it like the consumer would (inbox, handler,
 * outbox, in one transaction with marking it REPLAYED), then each message parked behind it for the
 * same order, in order. A message that fails again stays parked with the new reason; the replay
 * stops there (409 DEAD_LETTER_REPLAY_FAILED when it is the one asked for).
 */
export async function replayDeadLetter(db: AnyDb, id: number, apply: ApplyInTransaction): Promise<ReplayResult> {
  const first = toDeadLetter(await assertReplayable(db, id));
  const replayed: number[] = [];
  let nextId: number | undefined = first.id;
  while (nextId !== undefined) {
    const current: number = nextId;
    try {
      const after = await db.transaction().execute(async (trx) => {
        if (first.orderId) await lockOrder(trx, first.orderId);
        const row = await assertReplayable(trx, current);
        const message = decodeMessage(row.raw_value ?? row.value);
        const done = await apply(trx, message);
        await sql`update dead_letters set status = 'REPLAYED', resolved_at = now(), attempts = attempts + 1 where id = ${current}`.execute(trx);
        return done;
      });
      after();
      replayed.push(current);
    } catch (error) {
      if (error instanceof AppError && current !== first.id) break; // replayed or discarded meanwhile
      if (error instanceof AppError) throw error;
      const reason = storableText(`replay failed: ${(error as Error).message}`, 2_000);
      await sql`update dead_letters set attempts = attempts + 1, reason = ${reason}, failed = true where id = ${current}`.execute(db);
      if (current === first.id) throw new AppError('DEAD_LETTER_REPLAY_FAILED', `dead letter ${current} failed again: ${(error as Error).message}`);
      break;
    }
    nextId = first.orderId ? await oldestParked(db, first.orderId) : undefined;
  }
  return { replayed };
}
