import Type, { type Static } from 'typebox';
import { FailureReason } from '@oms/contracts';
import { actor, AppError, decodeCursor, Page, pageOf, pageQueryFields, type HttpServer, type ServiceContext } from '@oms/platform';
import type { OrderConfig } from '../config.ts';
import type { SagaStore } from '../db/sagas.ts';
import type { OrderDb } from '../db/schema.ts';
import { wakeAt } from '../domain/saga/engine.ts';
import { findDefinition } from '../domain/saga/order-saga.ts';
import type { SagaInstance } from '../domain/saga/types.ts';
import type { Clock } from '../app/saga-actions.ts';
import { retrySaga } from '../app/saga-commands.ts';

const iso = (ms: number | null | undefined) => (typeof ms === 'number' ? new Date(ms).toISOString() : null);
const NullableString = Type.Union([Type.String(), Type.Null()]);

const SagaDto = Type.Object({
  orderId: Type.String(),
  definition: Type.String(),
  definitionVersion: Type.Integer(),
  state: Type.String(),
  /** When the running stage must have answered. */
  deadlineAt: NullableString,
  /** When the sweeper next looks at it (a deadline, or a command or compensation to send again). */
  nextWakeAt: NullableString,
  steps: Type.Array(
    Type.Object({
      id: Type.String(),
      status: Type.String(),
      attempts: Type.Integer(),
      nextAttemptAt: NullableString,
      reasons: Type.Array(FailureReason),
      error: Type.Optional(Type.String()),
    }),
  ),
});
type SagaDto = Static<typeof SagaDto>;

/** Saga instance → operator's view, steps in definition order. */
function toSagaDto(instance: SagaInstance): SagaDto {
  const def = findDefinition(instance.definition, instance.definitionVersion);
  const ids = def ? def.steps.map((s) => s.id) : Object.keys(instance.steps);
  return {
    orderId: instance.orderId,
    definition: instance.definition,
    definitionVersion: instance.definitionVersion,
    state: instance.state,
    deadlineAt: iso(instance.deadlineAt),
    nextWakeAt: iso(wakeAt(instance)),
    steps: ids.map((id) => {
      const s = instance.steps[id] ?? { status: 'PENDING', reasons: [] };
      return { id, status: s.status, attempts: s.attempts ?? (s.status === 'PENDING' ? 0 : 1), nextAttemptAt: iso(s.nextAttemptAt), reasons: s.reasons, ...(s.error ? { error: s.error } : {}) };
    }),
  };
}

const Params = Type.Object({ orderId: Type.String({ format: 'uuid' }) });
const ListQuery = Type.Object(pageQueryFields, { additionalProperties: false });

/**
 * Operators' saga API: sagas that need a person (COMPENSATION_FAILED, or not final and overdue,
 * i.e. the sweeper has not moved them), one saga's state, and a retry.
 */
export function sagaAdminRoutes(app: HttpServer, ctx: ServiceContext<OrderDb, typeof OrderConfig>, store: SagaStore, clock: Clock): void {
  const { db, config } = ctx;
  const tags = ['admin'];
  const operatorOnly = { auth: 'operator' } as const;
  // Overdue by more than a few sweeps means the sweeper could not move it.
  const graceMs = Math.max(5_000, config.SAGA_SWEEP_INTERVAL_MS * 5);

  app.get('/api/admin/sagas', { config: operatorOnly, schema: { tags, querystring: ListQuery, response: { 200: Page(SagaDto) } } }, async (request) => {
    const { limit, cursor } = request.query;
    const afterOrderId = cursor ? String(decodeCursor(cursor, ['uuid'])[0]) : undefined;
    const rows = await store.needingAttention(db, { graceMs, staleMs: config.SAGA_STEP_DEADLINE_MS * 10, limit: limit + 1, afterOrderId });
    const page = pageOf(rows, limit, (last) => [last.orderId]);
    return { items: page.rows.map(toSagaDto), nextCursor: page.nextCursor };
  });

  app.get('/api/admin/sagas/:orderId', { config: operatorOnly, schema: { tags, params: Params, response: { 200: SagaDto } } }, async (request) => {
    const instance = await db.transaction().execute((trx) => store.load(trx, request.params.orderId, true));
    if (!instance) throw new AppError('SAGA_NOT_FOUND', `no saga for order ${request.params.orderId}`);
    return toSagaDto(instance);
  });

  app.post('/api/admin/sagas/:orderId/retry', { config: operatorOnly, schema: { tags, params: Params, response: { 202: SagaDto } } }, async (request, reply) => {
    const result = await retrySaga(db, store, config.OMS_TOPIC_PREFIX, request.params.orderId, clock);
    if (result.outcome === 'not-found') throw new AppError('SAGA_NOT_FOUND', `no saga for order ${request.params.orderId}`);
    if (result.outcome !== 'retried') throw new AppError('SAGA_NOT_RETRYABLE', `the saga of order ${request.params.orderId} is final`);
    request.log.info({ ...actor(request), orderId: request.params.orderId, state: result.instance.state }, 'operator retried a saga');
    return reply.status(202).send(toSagaDto(result.instance));
  });
}
