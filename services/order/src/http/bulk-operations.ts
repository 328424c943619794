import Type, { type Static } from 'typebox';
import { actor, AppError, decodeTimeIdCursor, Page, pageOf, pageQueryFields, principalOf, type HttpServer } from '@oms/platform';
import { BULK_RETRY_KIND, type BulkRetries } from '../app/bulk-retry.ts';
import { findBulkOperation, listBulkOperations, type BulkOperationRow } from '../db/bulk-operations.ts';
import type { SagaFilter } from '../db/saga-admin.ts';
import type { OrderDb } from '../db/schema.ts';
import type { Kysely } from 'kysely';
import { SagaFilterFields } from './admin.ts';

const SagaFilterBody = Type.Object(SagaFilterFields, { additionalProperties: false });

const BulkOperationDto = Type.Object({
  id: Type.String(),
  kind: Type.Literal(BULK_RETRY_KIND),
  filter: SagaFilterBody,
  /** The operator who started it. */
  startedBy: Type.String(),
  startedAt: Type.String(),
  status: Type.Union([Type.Literal('RUNNING'), Type.Literal('DONE'), Type.Literal('FAILED')]),
  /** Sagas that matched when it started: the progress bar's end (more may match as it runs). */
  total: Type.Integer(),
  /** Sagas handled so far; each of them was retried, skipped (final or not retryable by then) or failed. */
  matched: Type.Integer(),
  retried: Type.Integer(),
  skipped: Type.Integer(),
  failed: Type.Integer(),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
});
type BulkOperationDto = Static<typeof BulkOperationDto>;

function toBulkOperationDto(row: BulkOperationRow): BulkOperationDto {
  return {
    id: row.id,
    kind: BULK_RETRY_KIND,
    filter: row.filter,
    startedBy: row.started_by,
    startedAt: row.started_at.toISOString(),
    status: row.status,
    total: row.total,
    matched: row.matched,
    retried: row.retried,
    skipped: row.skipped,
    failed: row.failed,
    finishedAt: row.finished_at?.toISOString() ?? null,
    lastError: row.last_error,
  };
}

const Params = Type.Object({ id: Type.String({ format: 'uuid' }) });
const ListQuery = Type.Object(pageQueryFields, { additionalProperties: false });

/**
 * Operators' bulk operations: a retry of every saga needing attention that a filter matches, run
 * in the background (see BulkRetries), and its progress.
 */
export function bulkOperationRoutes(app: HttpServer, db: Kysely<OrderDb>, bulkRetries: BulkRetries): void {
  const tags = ['admin'];
  const operatorOnly = { auth: 'operator' } as const;

  app.post('/api/admin/sagas/bulk-retry', { config: operatorOnly, schema: { tags, body: SagaFilterBody, response: { 202: BulkOperationDto } } }, async (request, reply) => {
    // 'Unchanged for at least 0 s' narrows nothing: it does not make a filter.
    const filter: SagaFilter = Object.fromEntries(Object.entries(request.body).filter(([key, value]) => value !== undefined && !(key === 'minAgeSeconds' && value === 0)));
    // Retrying every saga needing attention at once is never what a click meant.
    if (Object.keys(filter).length === 0) throw new AppError('EMPTY_FILTER', 'name at least one of state, definition, step, attention, minAgeSeconds');
    const operation = await bulkRetries.start(filter, principalOf(request).id);
    request.log.info({ ...actor(request), operationId: operation.id, filter }, 'operator started a bulk retry of sagas');
    reply.header('location', `/api/admin/bulk-operations/${operation.id}`);
    return reply.status(202).send(toBulkOperationDto(operation));
  });

  app.get('/api/admin/bulk-operations/:id', { config: operatorOnly, schema: { tags, params: Params, response: { 200: BulkOperationDto } } }, async (request) => {
    const row = await findBulkOperation(db, request.params.id);
    if (!row) throw new AppError('BULK_OPERATION_NOT_FOUND', `no bulk operation ${request.params.id}`);
    return toBulkOperationDto(row);
  });

  app.get('/api/admin/bulk-operations', { config: operatorOnly, schema: { tags, querystring: ListQuery, response: { 200: Page(BulkOperationDto) } } }, async (request) => {
    const { limit, cursor } = request.query;
    const rows = await listBulkOperations(db, { limit: limit + 1, after: decodeTimeIdCursor(cursor) });
    const page = pageOf(rows, limit, (last) => [last.started_at.toISOString(), last.id]);
    return { items: page.rows.map(toBulkOperationDto), nextCursor: page.nextCursor };
  });
}
