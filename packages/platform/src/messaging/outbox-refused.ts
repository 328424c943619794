import { sql } from 'kysely';
import { AppError } from '../errors.ts';
import type { AnyDb } from './dead-letters.ts';
import { outboxCommitted } from './outbox.ts';

/** An outbox row the broker refused for good (see the relay), as the admin API shows it. */
export interface RefusedMessage {
  id: number;
  topic: string;
  messageKey: string;
  messageId: string;
  bytes: number;
  reason: string;
  createdAt: string;
  refusedAt: string;
  value?: string;
}

interface Row {
  id: number;
  topic: string;
  message_key: string;
  message_id: string;
  bytes: number;
  reason: string;
  created_at: Date;
  refused_at: Date;
  value?: string;
}

const toDto = (r: Row): RefusedMessage => ({
  id: r.id,
  topic: r.topic,
  messageKey: r.message_key,
  messageId: r.message_id,
  bytes: r.bytes,
  reason: r.reason,
  createdAt: r.created_at.toISOString(),
  refusedAt: r.refused_at.toISOString(),
  ...(r.value !== undefined ? { value: r.value } : {}),
});

/** Oldest first, without their (possibly huge) values. */
export async function listRefused(db: AnyDb, opts: { afterId?: number; limit: number }): Promise<RefusedMessage[]> {
  const { rows } = await sql<Row>`
    select id, topic, message_key, message_id::text, octet_length(value) as bytes, reason, created_at, refused_at
      from outbox_refused where id > ${opts.afterId ?? 0} order by id limit ${opts.limit}`.execute(db);
  return rows.map(toDto);
}

export async function getRefused(db: AnyDb, id: number): Promise<RefusedMessage> {
  const { rows } = await sql<Row>`
    select id, topic, message_key, message_id::text, octet_length(value) as bytes, reason, created_at, refused_at, value
      from outbox_refused where id = ${id}`.execute(db);
  if (!rows[0]) throw new AppError('REFUSED_MESSAGE_NOT_FOUND', `refused outbox message ${id} does not exist`);
  return toDto(rows[0]);
}

/**
 * Moves a refused message back into the outbox (after a fix, e.g. a larger `message.max.bytes`),
 * under its own message id, so a consumer that somehow had it still drops it; the relay sends it
 * next. It goes out after what its key sent meanwhile: its order's saga deals with a late message
 * as with any late one.
 */
export async function resendRefused(db: AnyDb, id: number): Promise<RefusedMessage> {
  const { rows } = await sql<Row & { outbox_id: number }>`
    with moved as (delete from outbox_refused where id = ${id} returning *),
         queued as (insert into outbox (topic, message_key, message_id, value, traceparent)
                    select topic, message_key, message_id, value, traceparent from moved returning id)
    select m.id, m.topic, m.message_key, m.message_id::text, octet_length(m.value) as bytes, m.reason, m.created_at, m.refused_at
      from moved m, queued`.execute(db);
  if (!rows[0]) throw new AppError('REFUSED_MESSAGE_NOT_FOUND', `refused outbox message ${id} does not exist`);
  outboxCommitted();
  return toDto(rows[0]);
}

/** Gives a refused message up for good. */
export async function discardRefused(db: AnyDb, id: number): Promise<RefusedMessage> {
  const { rows } = await sql<Row>`
    delete from outbox_refused where id = ${id}
    returning id, topic, message_key, message_id::text, octet_length(value) as bytes, reason, created_at, refused_at`.execute(db);
  if (!rows[0]) throw new AppError('REFUSED_MESSAGE_NOT_FOUND', `refused outbox message ${id} does not exist`);
  return toDto(rows[0]);
}
