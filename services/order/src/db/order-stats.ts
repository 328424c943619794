import { sql, type Kysely } from 'kysely';
import { FinalStatuses, type OrderStatus } from '@oms/contracts';
import type { OrderDb } from './schema.ts';

// What the operators' board shows of the last 15 minutes, from order_history (indexed on `at`).
// Every bucket is there (generate_series), empty ones with zeros.

export interface MinuteCounts {
  minute: Date;
  created: number;
  readyForDelivery: number;
  failed: number;
  cancelled: number;
}

export interface CompletionBucket {
  start: Date;
  completed: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export const MINUTES = 15;
export const BUCKET_SECONDS = 15;
/** 15-second buckets in 15 minutes. */
export const BUCKETS = (MINUTES * 60) / BUCKET_SECONDS;

/** The database's clock, the one every bucket is measured on. */
export async function statsNow(db: Kysely<OrderDb>): Promise<Date> {
  const { rows } = await sql<{ now: Date }>`select now() as now`.execute(db);
  return rows[0]!.now;
}

export async function ordersByStatus(db: Kysely<OrderDb>): Promise<Map<OrderStatus, number>> {
  const rows = await db.selectFrom('orders').select(['status', sql<number>`count(*)::int`.as('count')]).groupBy('status').execute();
  return new Map(rows.map((r) => [r.status, r.count]));
}

/** Status changes per minute: the current minute and the 14 before it, oldest first. */
export async function statusChangesPerMinute(db: Kysely<OrderDb>): Promise<MinuteCounts[]> {
  const { rows } = await sql<MinuteCounts>`
    with minutes as (
      select generate_series(date_trunc('minute', now()) - ${sql.lit(MINUTES - 1)} * interval '1 minute', date_trunc('minute', now()), interval '1 minute') as minute
    )
    select m.minute,
           count(h.id) filter (where h.status = 'CREATED')::int as "created",
           count(h.id) filter (where h.status = 'READY_FOR_DELIVERY')::int as "readyForDelivery",
           count(h.id) filter (where h.status = 'FAILED')::int as "failed",
           count(h.id) filter (where h.status = 'CANCELLED')::int as "cancelled"
      from minutes m
      left join order_history h on h.at >= m.minute and h.at < m.minute + interval '1 minute'
     group by m.minute
     order by m.minute`.execute(db);
  return rows;
}

/**
 * Orders completed (their first final status: a later cancel of a delivered order does not count
 * again) per 15-second bucket, the current one and the 59 before it, oldest first, with the
 * 50th and 99th percentile of their time from placement to that status.
 */
export async function completionsPerBucket(db: Kysely<OrderDb>): Promise<CompletionBucket[]> {
  const { rows } = await sql<CompletionBucket>`
    with last as (
      select to_timestamp(floor(extract(epoch from now()) / ${sql.lit(BUCKET_SECONDS)}) * ${sql.lit(BUCKET_SECONDS)}) as start
    ), buckets as (
      select generate_series(start - ${sql.lit((BUCKETS - 1) * BUCKET_SECONDS)} * interval '1 second', start, ${sql.lit(BUCKET_SECONDS)} * interval '1 second') as start from last
    ), completions as (
      select h.at, extract(epoch from h.at - o.created_at) * 1000 as ms
        from order_history h
        join orders o on o.id = h.order_id
       where h.at >= (select min(start) from buckets)
         and h.status = any(${FinalStatuses}::text[])
         and not exists (select 1 from order_history e where e.order_id = h.order_id and e.id < h.id and e.status = any(${FinalStatuses}::text[]))
    )
    select b.start,
           count(c.at)::int as "completed",
           percentile_cont(0.5) within group (order by c.ms) as "p50Ms",
           percentile_cont(0.99) within group (order by c.ms) as "p99Ms"
      from buckets b
      left join completions c on c.at >= b.start and c.at < b.start + ${sql.lit(BUCKET_SECONDS)} * interval '1 second'
     group by b.start
     order by b.start`.execute(db);
  return rows;
}
