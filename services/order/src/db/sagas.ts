import type { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { SagaInstance, SagaState } from '../domain/saga/types.ts';
import type { OrderDb } from './schema.ts';

/**
 * Saga instances in PostgreSQL with an LRU cache in front (the seed's EhCache role). The table is
 * the truth: writes are optimistic on `version`, so a stale cache entry (another instance moved the
 * saga on, or our transaction rolled back) is detected and the row reloaded. The cache is updated
 * only after the writing transaction commits.
 */
const toDate = (ms: number | null) => (ms === null ? null : new Date(ms));

export class SagaStore {
  readonly #cache: LRUCache<string, SagaInstance>;
  hits = 0;
  misses = 0;

  constructor(maxEntries = 10_000) {
    this.#cache = new LRUCache({ max: maxEntries });
  }

  async insert(db: Kysely<OrderDb>, instance: SagaInstance): Promise<void> {
    await db
      .insertInto('saga_instances')
      .values({
        order_id: instance.orderId,
        definition: instance.definition,
        definition_version: instance.definitionVersion,
        state: instance.state,
        steps: JSON.stringify(instance.steps),
        deadline_at: toDate(instance.deadlineAt),
        version: instance.version,
      })
      .execute();
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
    if (!row) return undefined;
    return {
      orderId: row.order_id,
      definition: row.definition,
      definitionVersion: row.definition_version,
      state: row.state as SagaState,
      steps: row.steps,
      deadlineAt: row.deadline_at ? row.deadline_at.getTime() : null,
      version: row.version,
    };
  }

  /** Writes `next` if the row is still at `expectedVersion`; false means the caller's copy was stale. */
  async save(db: Kysely<OrderDb>, next: SagaInstance, expectedVersion: number): Promise<boolean> {
    const result = await db
      .updateTable('saga_instances')
      .set({ state: next.state, steps: JSON.stringify(next.steps), deadline_at: toDate(next.deadlineAt), version: next.version, updated_at: new Date() })
      .where('order_id', '=', next.orderId)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Sagas whose running stage is past its deadline, oldest first. */
  async due(db: Kysely<OrderDb>, limit: number): Promise<string[]> {
    const rows = await db
      .selectFrom('saga_instances')
      .select('order_id')
      .where('state', '=', 'RUNNING')
      .where('deadline_at', '<=', new Date())
      .orderBy('deadline_at')
      .limit(limit)
      .execute();
    return rows.map((r) => r.order_id);
  }

  remember(instance: SagaInstance): void {
    this.#cache.set(instance.orderId, instance);
  }

  forget(orderId: string): void {
    this.#cache.delete(orderId);
  }
}
