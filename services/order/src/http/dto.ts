import Type, { type Static } from 'typebox';
import { Page, pageQueryFields } from '@oms/platform';
import { FailureReason, Money, OrderLine, OrderStatusSchema } from '@oms/contracts';
import type { HistoryEntry, OrderRow } from '../db/orders.ts';

export const MAX_ITEMS = 100;

export const PlaceOrderBody = Type.Object(
  {
    /** A customer's orders are their own (taken from the token); an operator names the user. */
    userId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    items: Type.Array(Type.Object({ sku: OrderLine.properties.sku, quantity: Type.Integer({ minimum: 1, maximum: 1_000_000 }) }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: MAX_ITEMS,
    }),
  },
  { additionalProperties: false },
);
export type PlaceOrderBody = Static<typeof PlaceOrderBody>;

export const PlaceOrderHeaders = Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) });
export const OrderParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const ListOrdersQuery = Type.Object(
  {
    userId: Type.Optional(Type.String({ minLength: 1 })),
    status: Type.Optional(OrderStatusSchema),
    /** Orders with a line of this SKU. */
    sku: Type.Optional(OrderLine.properties.sku),
    /** Placed at or after this instant… */
    from: Type.Optional(Type.String({ format: 'date-time' })),
    /** …and before this one. */
    to: Type.Optional(Type.String({ format: 'date-time' })),
    ...pageQueryFields,
  },
  { additionalProperties: false },
);

const OrderItemDto = Type.Object({ sku: Type.String(), quantity: Type.Integer(), unitPrice: Type.Optional(Money) });
export const OrderDto = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  status: OrderStatusSchema,
  items: Type.Array(OrderItemDto),
  total: Type.Union([Money, Type.Null()]),
  failureReasons: Type.Array(FailureReason),
  history: Type.Array(Type.Object({ status: OrderStatusSchema, at: Type.String(), reason: Type.Optional(Type.String()) })),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type OrderDto = Static<typeof OrderDto>;
export const OrderPage = Page(OrderDto);

/** Row + history → API shape (the seed's MapStruct mapper role). */
export function toOrderDto(row: OrderRow, history: readonly HistoryEntry[]): OrderDto {
  return {
    id: row.id,
    userId: row.user_id,
    status: row.status,
    items: row.items,
    total: row.total_amount === null ? null : { amount: row.total_amount, currency: row.total_currency ?? 'EUR' },
    failureReasons: row.failure_reasons,
    history: history.map((h) => ({ status: h.status, at: h.at.toISOString(), ...(h.reason ? { reason: h.reason } : {}) })),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
