import Type, { type Static } from 'typebox';
import { FailureReason } from '@oms/contracts';
import { actor, AppError, decodeCursor, Page, pageOf, pageQueryFields, type HttpServer, type ServiceContext } from '@oms/platform';
import type { OrderConfig } from '../config.ts';
import { attentionThresholds, findSagaRecord, sagasNeedingAttention, type SagaRecord } from '../db/saga-admin.ts';
import type { SagaStore } from '../db/sagas.ts';
import type { OrderDb } from '../db/schema.ts';
import { wakeAt } from '../domain/saga/engine.ts';
import { findDefinition } from '../domain/saga/order-saga.ts';
import { SagaAttentions, SagaStates, type StepState } from '../domain/saga/types.ts';
import type { Clock } from '../app/saga-actions.ts';
import { retrySaga } from '../app/saga-commands.ts';

const iso = (ms: number | null | undefined) => (typeof ms === 'number' ? new Date(ms).toISOString() : null);
const NullableString = Type.Union([Type.String(), Type.Null()]);
export const SagaAttentionSchema = Type.Enum(SagaAttentions);

/** The filter of the saga list and of a bulk retry: every field narrows the sagas needing attention. */
export const SagaFilterFields = {
  state: Type.Optional(Type.Enum(SagaStates)),
  /** A saga definition's name (`order`, `order-with-payment`). */
  definition: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  /** A step id that is WAITING, COMPENSATING or COMPENSATION_FAILED. */
  step: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  attention: Type.Optional(SagaAttentionSchema),
  /** Not changed for at least this many seconds. */
  minAgeSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 * 365 * 86_400 })),
};

const SagaDto = Type.Object({
  orderId: Type.String(),
  definition: Type.String(),
  definitionVersion: Type.Integer(),
  state: Type.String(),
  /** When the running stage must have answered. */
  deadlineAt: NullableString,
  /** When the sweeper next looks at it (a deadline, or a command or compensation to send again). */
  nextWakeAt: NullableString,
  createdAt: Type.String(),
  updatedAt: Type.String(),
  /** Why it needs a person (the most urgent reason), or null. */
  attention: Type.Union([SagaAttentionSchema, Type.Null()]),
  steps: Type.Array(
    Type.Object({
      id: Type.String(),
      status: Type.String(),
      attempts: Type.Integer(),
      nextAttemptAt: NullableString,
      reasons: Type.Array(FailureReason),
      error: Type.Optional(Type.String()),
      /** The command's first send in its invoke phase, and its latest. */
      sentAt: NullableString,
      lastSentAt: NullableString,
      /** The participant's answer applied (success or refusal), or the step timed out or failed. */
      answeredAt: NullableString,
      compensationSentAt: NullableString,
      lastCompensationSentAt: NullableString,
      compensatedAt: NullableString,
    }),
  ),
});
type SagaDto = Static<typeof SagaDto>;

/** Saga record → operator's view, steps in definition order. */
function toSagaDto({ instance, createdAt, updatedAt, attention }: SagaRecord): SagaDto {
  const def = findDefinition(instance.definition, instance.definitionVersion);
  const ids = def ? def.steps.map((s) => s.id) : Object.keys(instance.steps);
  return {
    orderId: instance.orderId,
    definition: instance.definition,
    definitionVersion: instance.definitionVersion,
    state: instance.state,
    deadlineAt: iso(instance.deadlineAt),
    nextWakeAt: iso(wakeAt(instance)),
    createdAt: createdAt.toISOString(),
    updatedAt: updatedAt.toISOString(),
    attention,
    steps: ids.map((id) => {
      const s: StepState = instance.steps[id] ?? { status: 'PENDING', reasons: [] };
      return {
        id,
        status: s.status,
        attempts: s.attempts ?? (s.status === 'PENDING' ? 0 : 1),
        nextAttemptAt: iso(s.nextAttemptAt),
        reasons: s.reasons,
        ...(s.error ? { error: s.error } : {}),
        sentAt: iso(s.sentAt),
        lastSentAt: iso(s.lastSentAt),
        answeredAt: iso(s.answeredAt),
        compensationSentAt: iso(s.compensationSentAt),
        lastCompensationSentAt: iso(s.lastCompensationSentAt),
        compensatedAt: iso(s.compensatedAt),
      };
    }),
  };
}

const Params = Type.Object({ orderId: Type.String({ format: 'uuid' }) });
const ListQuery = Type.Object({ ...SagaFilterFields, ...pageQueryFields }, { additionalProperties: false });

/**
 * Operators' saga API: sagas that need a person (COMPENSATION_FAILED, or not final and overdue,
 * i.e. the sweeper has not moved them, or being sent again), one saga's state, and a retry.
 */
export function sagaAdminRoutes(app: HttpServer, ctx: ServiceContext<OrderDb, typeof OrderConfig>, store: SagaStore, clock: Clock): void {
  const { db, config } = ctx;
  const tags = ['admin'];
  const operatorOnly = { auth: 'operator' } as const;
  const thresholds = attentionThresholds(config);
  const record = async (orderId: string) => {
    const found = await findSagaRecord(db, orderId, thresholds);
    if (!found) throw new AppError('SAGA_NOT_FOUND', `no saga for order ${orderId}`);
    return found;
  };

  app.get('/api/admin/sagas', { config: operatorOnly, schema: { tags, querystring: ListQuery, response: { 200: Page(SagaDto) } } }, async (request) => {
    const { limit, cursor, ...filter } = request.query;
    const afterOrderId = cursor ? String(decodeCursor(cursor, ['uuid'])[0]) : undefined;
    const rows = await sagasNeedingAttention(db, filter, thresholds, { limit: limit + 1, afterOrderId });
    const page = pageOf(rows, limit, (last) => [last.instance.orderId]);
    return { items: page.rows.map(toSagaDto), nextCursor: page.nextCursor };
  });

  app.get('/api/admin/sagas/:orderId', { config: operatorOnly, schema: { tags, params: Params, response: { 200: SagaDto } } }, async (request) =>
    toSagaDto(await record(request.params.orderId)),
  );

  app.post('/api/admin/sagas/:orderId/retry', { config: operatorOnly, schema: { tags, params: Params, response: { 202: SagaDto } } }, async (request, reply) => {
    const result = await retrySaga(db, store, config.OMS_TOPIC_PREFIX, request.params.orderId, clock);
    if (result.outcome === 'not-found') throw new AppError('SAGA_NOT_FOUND', `no saga for order ${request.params.orderId}`);
    if (result.outcome !== 'retried') throw new AppError('SAGA_NOT_RETRYABLE', `the saga of order ${request.params.orderId} is final`);
    request.log.info({ ...actor(request), orderId: request.params.orderId, state: result.instance.state }, 'operator retried a saga');
    // Read back for its times; a participant that already answered shows the saga as it is now.
    return reply.status(202).send(toSagaDto(await record(request.params.orderId)));
  });
}
