import type { ColumnType, Generated, JSONColumnType, Selectable } from 'kysely';
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

export interface WebhookEndpointsTable {
  id: string;
  owner_id: string;
  owner_role: 'customer' | 'operator';
  url: string;
  events: string[];
  description: string | null;
  secret: string;
  previous_secret: ColumnType<string | null, string | null | undefined, string | null>;
  previous_secret_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  disabled_reason: ColumnType<string | null, string | null | undefined, string | null>;
  failing_since: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: Generated<Date>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}
export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  order_id: string;
  body: string;
  state: ColumnType<'PENDING' | 'SUCCEEDED' | 'FAILED', 'PENDING' | undefined, 'PENDING' | 'SUCCEEDED' | 'FAILED'>;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | undefined, Date>;
  locked_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: Generated<Date>;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: number;
  at: Date;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
}

export interface ContactsTable {
  user_id: string;
  name: string;
  email: string | null;
  updated_at: Date;
}

export interface EmailDeliveriesTable {
  id: Generated<number>;
  notification_id: number | null;
  order_id: string | null;
  recipient: string;
  subject: string;
  text_body: string;
  html_body: string;
  state: Generated<'PENDING' | 'SENT' | 'FAILED'>;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  locked_until: Date | null;
  last_error: string | null;
  sent_at: Date | null;
  created_at: Generated<Date>;
}

export interface NotificationDb {
  notifications: NotificationsTable;
  contacts: ContactsTable;
  email_deliveries: EmailDeliveriesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}
