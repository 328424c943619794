import type { FailureReason, OrderStatus } from '@oms/contracts';

/** The words a person reads for a status change. Pure, so the wording is tested without Kafka. */
export function notificationText(orderId: string, status: OrderStatus, reasons: readonly FailureReason[]): string {
  switch (status) {
    case 'CREATED':
      return `We received your order ${orderId}.`;
    case 'READY_FOR_DELIVERY':
      return `Your order ${orderId} is ready for delivery.`;
    case 'FAILED':
      // The reasons' messages name what went wrong (which SKU, which user); codes are for machines.
      return `Your order ${orderId} failed: ${reasons.map((r) => r.message).join('; ') || 'no reason was given'}.`;
    case 'CANCELLED':
      return `Your order ${orderId} was cancelled.`;
  }
}
