import type { ColumnType, Generated, JSONColumnType } from 'kysely';
import type { Contact, FailureReason, OrderLine, OrderStatus } from '@oms/contracts';
import type { StepState } from '../domain/saga/types.ts';

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
  created_at: Generated<Date>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface OrderDb {
  orders: OrdersTable;
  order_history: OrderHistoryTable;
  saga_instances: SagaInstancesTable;
}
