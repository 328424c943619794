import type { ColumnType, Generated, JSONColumnType } from 'kysely';
import type { Contact, FailureReason, OrderLine, OrderStatus } from '@oms/contracts';
import type { StepState } from '../domain/saga/types.ts';
import type { SagaFilter } from './saga-admin.ts';

export interface OrderItem extends OrderLine {
  unitPrice?: { amount: number; currency: string };
}

export interface OrdersTable {
  id: string;
  user_id: string;
  status: OrderStatus;
  items: JSONColumnType<OrderItem[]>;
  total_amount: number | null;
  total_currency: string | null;
  failure_reasons: JSONColumnType<FailureReason[]>;
  /** The caller who placed it (a customer for themselves, or an operator); scopes idempotency_key. */
  placed_by: string;
  idempotency_key: string | null;
  request_hash: string | null;
  contact: ColumnType<Contact | null, Contact | null | undefined, Contact | null>;
  created_at: ColumnType<Date, Date | undefined, Date>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface OrderHistoryTable {
  id: Generated<number>;
  order_id: string;
  status: OrderStatus;
  reason: string | null;
  at: ColumnType<Date, Date | undefined, never>;
  /** The writing transaction (xid8, as text): the live streams' commit order. */
  tx: ColumnType<string, never, never>;
}

export interface SagaInstancesTable {
  order_id: string;
  definition: string;
  definition_version: number;
  state: string;
  steps: JSONColumnType<Record<string, StepState>>;
  deadline_at: Date | null;
  wake_at: Date | null;
  resume_state: string | null;
  version: number;
  traceparent: string | null;
  created_at: Generated<Date>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export type BulkOperationStatus = 'RUNNING' | 'DONE' | 'FAILED';

/** An operator's bulk operation (a retry of every saga a filter matches), run in the background. */
export interface BulkOperationsTable {
  id: string;
  kind: string;
  filter: JSONColumnType<SagaFilter>;
  started_by: string;
  started_at: ColumnType<Date, Date | undefined, never>;
  status: BulkOperationStatus;
  /** Sagas matching when it started. */
  total: ColumnType<number, number | undefined, never>;
  matched: ColumnType<number, number | undefined, number>;
  retried: ColumnType<number, number | undefined, number>;
  skipped: ColumnType<number, number | undefined, number>;
  failed: ColumnType<number, number | undefined, number>;
  /** The last saga (order id) handled: the run resumes after it. */
  cursor: string | null;
  finished_at: Date | null;
  last_error: string | null;
  /** The instance running it (null: released, for any to take). */
  runner: string | null;
  /** Written by the runner after every saga; a stale one is taken over by another instance. */
  heartbeat_at: ColumnType<Date, Date | undefined, Date>;
}

export interface OrderDb {
  orders: OrdersTable;
  order_history: OrderHistoryTable;
  saga_instances: SagaInstancesTable;
  bulk_operations: BulkOperationsTable;
}
