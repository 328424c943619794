import type { Generated, JSONColumnType } from 'kysely';
import type { FailureReason, OrderStatus } from '@oms/contracts';

export interface NotificationsTable {
  id: Generated<number>;
  order_id: string;
  user_id: string;
  status: OrderStatus;
  message: string;
  reasons: JSONColumnType<FailureReason[]>;
  created_at: Generated<Date>;
}

export interface NotificationDb {
  notifications: NotificationsTable;
}
