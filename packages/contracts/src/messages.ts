import Type, { type Static } from 'typebox';
import { defineMessage } from './envelope.ts';
import { FailureCodes } from './codes.ts';
import { Topics } from './topics.ts';

export const Money = Type.Object(
  {
    /** Minor units (cents). */
    amount: Type.Integer({ minimum: 0 }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  },
  { additionalProperties: false },
);
export type Money = Static<typeof Money>;

/**
 * Bounds that keep every order total exact: a unit price of at most MAX_UNIT_PRICE minor units
 * times at most MAX_ORDER_UNITS units in one order stays below Number.MAX_SAFE_INTEGER (and far
 * below PostgreSQL's bigint), so no total is ever rounded or overflows.
 */
export const MAX_UNIT_PRICE = 10_000_000_000;
export const MAX_ORDER_UNITS = 900_000;

export const FailureReason = Type.Object({
  code: Type.Enum(FailureCodes),
  message: Type.String(),
});
export type FailureReason = Static<typeof FailureReason>;

export const OrderLine = Type.Object({
  sku: Type.String({ minLength: 1, maxLength: 64 }),
  quantity: Type.Integer({ minimum: 1 }),
});
export type OrderLine = Static<typeof OrderLine>;

export const OrderStatuses = ['CREATED', 'READY_FOR_DELIVERY', 'FAILED', 'CANCELLED'] as const;
export type OrderStatus = (typeof OrderStatuses)[number];
/** READY_FOR_DELIVERY is final for the saga but may still be cancelled (which compensates it). */
export const FinalStatuses: readonly OrderStatus[] = ['READY_FOR_DELIVERY', 'FAILED', 'CANCELLED'];
export const OrderStatusSchema = Type.Enum(OrderStatuses);

// ---- commands (orchestrator -> participants) ----

/** Asks the user service whether the user may order. Replied with `UserValidated`. */
export const ValidateUser = defineMessage('user.validate', 1, Topics.userCommands, Type.Object({ userId: Type.String() }));

/** Reserve every line or none. Replied with `StockReservationResult`. */
export const ReserveStock = defineMessage(
  'inventory.reserve-stock',
  1,
  Topics.inventoryCommands,
  Type.Object({ items: Type.Array(OrderLine, { minItems: 1 }) }),
);

/** Compensation of ReserveStock: give back whatever this order holds. Idempotent. */
export const ReleaseStock = defineMessage('inventory.release-stock', 1, Topics.inventoryCommands, Type.Object({}));

/** The order is ready: its reservation becomes committed stock. Idempotent. */
export const CommitStock = defineMessage('inventory.commit-stock', 1, Topics.inventoryCommands, Type.Object({}));

/** Hold the order's total against the user's credit. Replied with `PaymentAuthorised`. */
export const AuthorisePayment = defineMessage('payment.authorise', 1, Topics.paymentCommands, Type.Object({ userId: Type.String(), amount: Money }));

/** Compensation of AuthorisePayment: release the hold. Idempotent; a void before its authorise blocks it. */
export const VoidPayment = defineMessage('payment.void', 1, Topics.paymentCommands, Type.Object({}));

// ---- replies (participants -> orchestrator) ----

/**
 * How to reach the order's customer, carried by the events that need it (the notification service
 * learns addresses from events, never from the user service's database). `email: null` when the
 * customer has turned e-mails off.
 */
export const Contact = Type.Object({ name: Type.String(), email: Type.Union([Type.String(), Type.Null()]) });
export type Contact = Static<typeof Contact>;

export const UserValidated = defineMessage(
  'user.validated',
  1,
  Topics.sagaReplies,
  // `contact` (added within v1, optional): a valid user's name and address for notifications.
  Type.Object({ ok: Type.Boolean(), reasons: Type.Array(FailureReason), contact: Type.Optional(Contact) }),
);

export const PricedLine = Type.Object({ sku: Type.String(), quantity: Type.Integer(), unitPrice: Money });
export type PricedLine = Static<typeof PricedLine>;

export const StockReservationResult = defineMessage(
  'inventory.reservation-result',
  1,
  Topics.sagaReplies,
  Type.Object({
    ok: Type.Boolean(),
    reasons: Type.Array(FailureReason),
    /** Present when ok: the lines with the prices they were reserved at. */
    lines: Type.Array(PricedLine),
    total: Type.Union([Money, Type.Null()]),
  }),
);

export const StockReleased = defineMessage('inventory.released', 1, Topics.sagaReplies, Type.Object({ released: Type.Boolean() }));
/** No longer sent (nobody acted on it); still readable, so one in flight from an older inventory is ignored, not dead-lettered. */
export const StockCommitted = defineMessage('inventory.committed', 1, Topics.sagaReplies, Type.Object({ committed: Type.Boolean() }));

export const PaymentAuthorised = defineMessage(
  'payment.authorisation-result',
  1,
  Topics.sagaReplies,
  Type.Object({ ok: Type.Boolean(), reasons: Type.Array(FailureReason) }),
);
export const PaymentVoided = defineMessage('payment.voided', 1, Topics.sagaReplies, Type.Object({ voided: Type.Boolean() }));

// ---- events (order service -> anyone) ----

export const OrderStatusChanged = defineMessage(
  'order.status-changed',
  1,
  Topics.orderEvents,
  Type.Object({
    userId: Type.String(),
    status: OrderStatusSchema,
    previousStatus: Type.Union([OrderStatusSchema, Type.Null()]),
    reasons: Type.Array(FailureReason),
    total: Type.Union([Money, Type.Null()]),
    at: Type.String({ format: 'date-time' }),
    /** The customer's contact once the user step has answered (optional within v1). */
    contact: Type.Optional(Type.Union([Contact, Type.Null()])),
  }),
);

export const allMessages = [
  ValidateUser,
  ReserveStock,
  ReleaseStock,
  CommitStock,
  UserValidated,
  StockReservationResult,
  StockReleased,
  StockCommitted,
  AuthorisePayment,
  VoidPayment,
  PaymentAuthorised,
  PaymentVoided,
  OrderStatusChanged,
] as const;

