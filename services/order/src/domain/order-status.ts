import type { FailureReason, OrderStatus, Role } from '@oms/contracts';

/** Who asked for a change that a person made (a cancel): named in the order's history. */
export interface Requester {
  id: string;
  role: Role;
}

/** The history line for a status change: why it happened, in words, and who asked for it. */
export function historyReason(status: OrderStatus, reasons: readonly FailureReason[], by?: Requester): string | null {
  if (status === 'FAILED') return reasons.map((r) => `${r.code}: ${r.message}`).join('; ') || 'failed';
  if (status === 'READY_FOR_DELIVERY') return 'every saga step succeeded';
  if (status === 'CANCELLED') {
    const who = !by ? 'on request' : by.role === 'operator' ? `by operator ${by.id}` : 'by the customer';
    return `cancelled ${who}; completed steps are compensated`;
  }
  return null;
}
