import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import { LRUCache } from 'lru-cache';
import { wakeAt } from '../domain/saga/engine.ts';
import type { SagaInstance, SagaState } from '../domain/saga/types.ts';
import type { OrderDb, SagaInstancesTable } from './schema.ts';

/**
 * Saga instances in PostgreSQL with an LRU cache in front (the seed's EhCache role). The table is
 * the truth: writes are optimistic on `version`, so a stale cache entry (another instance moved the
 * saga on, or our transaction rolled back) is detected and the row reloaded. The cache is updated
 * only after the writing transaction commits.
 */
const toDate = (ms: number | null) => (ms === null ? null : new Date(ms));

/** The columns a decision changes. */
function mutableColumns(instance: SagaInstance) {
  return {
    state: instance.state,
    steps: JSON.stringify(instance.steps),
    deadline_at: toDate(instance.deadlineAt),
    wake_at: toDate(wakeAt(instance)),
    resume_state: instance.resumeState ?? null,
    version: instance.version,
  };
}

/** A saga row → the instance the engine decides on. */
export function sagaFromRow(row: Selectable<SagaInstancesTable>): SagaInstance {
  return {
    orderId: row.order_id,
    definition: row.definition,
    definitionVersion: row.definition_version,
    state: row.state as SagaState,
    steps: row.steps,
    deadlineAt: row.deadline_at ? row.deadline_at.getTime() : null,
    ...(row.resume_state ? { resumeState: row.resume_state as SagaInstance['resumeState'] } : {}),
    version: row.version,
    ...(row.traceparent ? { traceparent: row.traceparent } : {}),
  };
}

export class SagaStore {
  readonly #cache: LRUCache<string, SagaInstance>;
  hits = 0;
  misses = 0;

  constructor(maxEntries = 10_000) {
    this.#cache = new LRUCache({ max: maxEntries });
  }

  /**
   * The insert of several new saga instances as part of a larger statement: each goes in only if
   * its order is among the rows the CTE `source` produced (an order whose key was taken has none).
   */
  insertManyFrom(source: string, instances: readonly SagaInstance[]): RawBuilder<unknown> {
    const cs = instances.map(mutableColumns);
    return sql`
      insert into saga_instances (order_id, definition, definition_version, state, steps, deadline_at, wake_at, resume_state, version, traceparent)
      select s.order_id, s.definition, s.definition_version, s.state, s.steps::jsonb, s.deadline_at, s.wake_at, s.resume_state, s.version, s.traceparent
        from unnest(${instances.map((i) => i.orderId)}::uuid[], ${instances.map((i) => i.definition)}::text[], ${instances.map((i) => i.definitionVersion)}::int[],
                    ${cs.map((c) => c.state)}::text[], ${cs.map((c) => c.steps)}::text[], ${cs.map((c) => c.deadline_at)}::timestamptz[],
                    ${cs.map((c) => c.wake_at)}::timestamptz[], ${cs.map((c) => c.resume_state)}::text[], ${cs.map((c) => c.version)}::int[],
                    ${instances.map((i) => i.traceparent ?? null)}::text[])
             as s(order_id, definition, definition_version, state, steps, deadline_at, wake_at, resume_state, version, traceparent)
        join ${sql.table(source)} p on p.id = s.order_id`;
  }

  /** The cached instance if any, else the row, locked for this transaction. */
  async load(db: Kysely<OrderDb>, orderId: string, bypassCache = false): Promise<SagaInstance | undefined> {
    const cached = bypassCache ? undefined : this.#cache.get(orderId);
    if (cached) {
      this.hits++;
      return cached;
    }
    this.misses++;
    const row = await db.selectFrom('saga_instances').selectAll().where('order_id', '=', orderId).forUpdate().executeTakeFirst();
    return row ? sagaFromRow(row) : undefined;
  }

  /** The cached instances of these sagas; the ids not in the cache. */
  cached(orderIds: readonly string[]): { found: Map<string, SagaInstance>; missing: string[] } {
    const found = new Map<string, SagaInstance>();
    const missing: string[] = [];
    for (const id of orderIds) {
      const hit = this.#cache.get(id);
      if (hit) {
        this.hits++;
        found.set(id, hit);
      } else {
        this.misses++;
        missing.push(id);
      }
    }
    return { found, missing };
  }

  /** The rows of these sagas, locked for this transaction (in order-id order, so batches never deadlock each other). */
  async loadMany(db: Kysely<OrderDb>, orderIds: readonly string[]): Promise<Map<string, SagaInstance>> {
    if (orderIds.length === 0) return new Map();
    const rows = await db
      .selectFrom('saga_instances')
      .selectAll()
      .where('order_id', '=', sql<string>`any(${[...orderIds]}::uuid[])`)
      .orderBy('order_id')
      .forUpdate()
      .execute();
    return new Map(rows.map((r) => [r.order_id, sagaFromRow(r)]));
  }

  /**
   * Writes each `next` whose row is still at its `expectedVersion`, in one statement; returns the
   * ids written (the others' copies were stale).
   */
  async saveMany(db: Kysely<OrderDb>, writes: readonly { next: SagaInstance; expectedVersion: number }[]): Promise<Set<string>> {
    if (writes.length === 0) return new Set();
    const sorted = [...writes].sort((a, b) => (a.next.orderId < b.next.orderId ? -1 : 1));
    const cs = sorted.map((w) => mutableColumns(w.next));
    const { rows } = await sql<{ order_id: string }>`
      update saga_instances s
         set state = v.state, steps = v.steps::jsonb, deadline_at = v.deadline_at, wake_at = v.wake_at,
             resume_state = v.resume_state, version = v.version, updated_at = now()
        from unnest(${sorted.map((w) => w.next.orderId)}::uuid[], ${sorted.map((w) => w.expectedVersion)}::int[], ${cs.map((c) => c.state)}::text[],
                    ${cs.map((c) => c.steps)}::text[], ${cs.map((c) => c.deadline_at)}::timestamptz[], ${cs.map((c) => c.wake_at)}::timestamptz[],
                    ${cs.map((c) => c.resume_state)}::text[], ${cs.map((c) => c.version)}::int[])
             as v(order_id, expected, state, steps, deadline_at, wake_at, resume_state, version)
       where s.order_id = v.order_id and s.version = v.expected
      returning s.order_id`.execute(db);
    return new Set(rows.map((r) => r.order_id));
  }

  /** Writes `next` if the row is still at `expectedVersion`; false means the caller's copy was stale. */
  async save(db: Kysely<OrderDb>, next: SagaInstance, expectedVersion: number): Promise<boolean> {
    const result = await db
      .updateTable('saga_instances')
      .set({ ...mutableColumns(next), updated_at: new Date() })
      .where('order_id', '=', next.orderId)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Sagas that need the clock now (a stage deadline passed, or a step's next attempt is due), most overdue first. */
  async due(db: Kysely<OrderDb>, limit: number): Promise<string[]> {
    const rows = await db.selectFrom('saga_instances').select('order_id').where('wake_at', '<=', new Date()).orderBy('wake_at').limit(limit).execute();
    return rows.map((r) => r.order_id);
  }

  remember(instance: SagaInstance): void {
    this.#cache.set(instance.orderId, instance);
  }

  forget(orderId: string): void {
    this.#cache.delete(orderId);
  }
}
