/**
 * Why a saga step refused an order. Closed list: these codes appear in `failureReasons` and are a
 * public contract (clients switch on them).
 */
export const FailureCodes = [
  'USER_NOT_FOUND',
  'USER_INACTIVE',
  'INSUFFICIENT_STOCK',
  'UNKNOWN_SKU',
  'CURRENCY_MISMATCH',
  'PAYMENT_DECLINED',
  'STEP_TIMEOUT',
  'ORDER_TOTAL_TOO_LARGE',
] as const;
export type FailureCode = (typeof FailureCodes)[number];

/** HTTP error codes: each maps to one status and title (see `errorCatalog`). */
export const ErrorCodes = [
  'VALIDATION_FAILED',
  'MALFORMED_JSON',
  'BODY_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'ROUTE_NOT_FOUND',
  'ORDER_NOT_FOUND',
  'PRODUCT_NOT_FOUND',
  'USER_NOT_FOUND',
  'ACCOUNT_NOT_FOUND',
  'DUPLICATE_EMAIL',
  'DUPLICATE_SKU',
  'STOCK_WOULD_GO_NEGATIVE',
  'IDEMPOTENCY_KEY_REUSED',
  'ORDER_NOT_CANCELLABLE',
  'SAGA_NOT_FOUND',
  'SAGA_NOT_RETRYABLE',
  'EMPTY_FILTER',
  'BULK_OPERATION_NOT_FOUND',
  'DEAD_LETTER_NOT_FOUND',
  'DEAD_LETTER_NOT_PARKED',
  'DEAD_LETTER_BLOCKED',
  'DEAD_LETTER_REPLAY_FAILED',
  'REFUSED_MESSAGE_NOT_FOUND',
  'WEBHOOK_NOT_FOUND',
  'WEBHOOK_DELIVERY_NOT_FOUND',
  'WEBHOOK_URL_REFUSED',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'INVALID_CREDENTIALS',
  'ACCOUNT_INACTIVE',
  'INVALID_REFRESH_TOKEN',
  'RATE_LIMITED',
  'ACCOUNT_CURRENCY_IN_USE',
  'INVALID_CURSOR',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_ERROR',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

export interface ErrorDescriptor {
  readonly status: number;
  readonly title: string;
}

export const errorCatalog: Readonly<Record<ErrorCode, ErrorDescriptor>> = {
  VALIDATION_FAILED: { status: 400, title: 'The request is not valid' },
  MALFORMED_JSON: { status: 400, title: 'The request body is not valid JSON' },
  BODY_TOO_LARGE: { status: 413, title: 'The request body is larger than 1 MiB' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The request body must be application/json' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  ORDER_NOT_FOUND: { status: 404, title: 'No such order' },
  PRODUCT_NOT_FOUND: { status: 404, title: 'No such product' },
  USER_NOT_FOUND: { status: 404, title: 'No such user' },
  ACCOUNT_NOT_FOUND: { status: 404, title: 'No such payment account' },
  DUPLICATE_EMAIL: { status: 409, title: 'A user with this email already exists' },
  DUPLICATE_SKU: { status: 409, title: 'A product with this SKU already exists' },
  STOCK_WOULD_GO_NEGATIVE: { status: 409, title: 'The stock change would make available stock negative' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'This Idempotency-Key was used with a different request body' },
  ORDER_NOT_CANCELLABLE: { status: 409, title: 'The order can no longer be cancelled' },
  SAGA_NOT_FOUND: { status: 404, title: 'No such saga' },
  SAGA_NOT_RETRYABLE: { status: 409, title: 'The saga is final: there is nothing to retry' },
  EMPTY_FILTER: { status: 400, title: 'A bulk operation needs a filter: at least one field must be set' },
  BULK_OPERATION_NOT_FOUND: { status: 404, title: 'No such bulk operation' },
  DEAD_LETTER_NOT_FOUND: { status: 404, title: 'No such dead letter' },
  DEAD_LETTER_NOT_PARKED: { status: 409, title: 'The dead letter was already replayed or discarded' },
  DEAD_LETTER_BLOCKED: { status: 409, title: 'An earlier dead letter for the same order must be replayed or discarded first' },
  DEAD_LETTER_REPLAY_FAILED: { status: 409, title: 'The dead letter failed again; it stays parked with the new reason' },
  REFUSED_MESSAGE_NOT_FOUND: { status: 404, title: 'No such refused outbox message (it may have been resent or discarded)' },
  WEBHOOK_NOT_FOUND: { status: 404, title: 'No such webhook endpoint' },
  WEBHOOK_DELIVERY_NOT_FOUND: { status: 404, title: 'No such webhook delivery' },
  WEBHOOK_URL_REFUSED: { status: 422, title: 'Webhooks cannot be sent to this URL' },
  UNAUTHENTICATED: { status: 401, title: 'A valid access token is needed (Authorization: Bearer …)' },
  FORBIDDEN: { status: 403, title: 'Your role may not do this' },
  INVALID_CREDENTIALS: { status: 401, title: 'The e-mail address or the password is wrong' },
  ACCOUNT_INACTIVE: { status: 403, title: 'The account is inactive' },
  INVALID_REFRESH_TOKEN: { status: 401, title: 'The refresh token is not valid (unknown, expired, used before or logged out)' },
  RATE_LIMITED: { status: 429, title: 'Too many requests; try again later' },
  ACCOUNT_CURRENCY_IN_USE: { status: 409, title: "The account's currency cannot change while it holds money" },
  INVALID_CURSOR: { status: 400, title: 'The cursor is not valid' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'The service is not ready' },
  INTERNAL_ERROR: { status: 500, title: 'Internal server error' },
};
