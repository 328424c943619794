import type { FailureReason, OrderStatus } from '@oms/contracts';

/** The words a person reads for a status change. */
export function notificationText(orderId: string, status: OrderStatus, reasons: readonly FailureReason[]): string {
  switch (status) {
    case 'CREATED':
      return `We received your order ${orderId}.`;
    case 'READY_FOR_DELIVERY':
      return `Your order ${orderId} is ready for delivery.`;
    case 'FAILED':
      return `Your order ${orderId} could not be completed: ${reasons.map((r) => r.message).join('; ') || 'unknown reason'}.`;
    case 'CANCELLED':
      return `Your order ${orderId} was cancelled.`;
  }
}
