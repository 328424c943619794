import type { FailureReason, OrderStatus } from '@oms/contracts';

/** The history line for a status change: why it happened, in words. */
export function historyReason(status: OrderStatus, reasons: readonly FailureReason[]): string | null {
  if (status === 'FAILED') return reasons.map((r) => `${r.code}: ${r.message}`).join('; ') || 'failed';
  if (status === 'READY_FOR_DELIVERY') return 'every saga step succeeded';
  if (status === 'CANCELLED') return 'cancelled on request; completed steps are compensated';
  return null;
}
