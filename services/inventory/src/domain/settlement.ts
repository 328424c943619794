/** A reservation line moves RESERVED -> RELEASED or RESERVED -> COMMITTED (-> RELEASED on a cancel). */
export type ReservationState = 'RESERVED' | 'RELEASED' | 'COMMITTED';

/** A change to one product's three counters; its parts always sum to zero (stock is conserved). */
export interface StockMove {
  sku: string;
  available: number;
  reserved: number;
  committed: number;
}

export type Settlement = 'RELEASED' | 'COMMITTED';

/**
 * Which held states a settlement takes. A release also takes COMMITTED lines because cancelling a
 * READY_FOR_DELIVERY order releases its stock after it was committed (see the order saga).
 */
export function settledFrom(to: Settlement): ReservationState[] {
  return to === 'RELEASED' ? ['RESERVED', 'COMMITTED'] : ['RESERVED'];
}

/** The counter changes that settle these held lines. Pure: the caller holds the rows locked. */
export function settlementMoves(held: readonly { sku: string; quantity: number; state: ReservationState }[], to: Settlement): StockMove[] {
  return held
    .filter((h) => settledFrom(to).includes(h.state))
    .map((h) => {
      if (to === 'COMMITTED') return { sku: h.sku, available: 0, reserved: -h.quantity, committed: h.quantity };
      return h.state === 'RESERVED'
        ? { sku: h.sku, available: h.quantity, reserved: -h.quantity, committed: 0 }
        : { sku: h.sku, available: h.quantity, reserved: 0, committed: -h.quantity };
    });
}

/** The counter changes that take a planned reservation out of available stock. */
export function reservationMoves(lines: readonly { sku: string; quantity: number }[]): StockMove[] {
  return lines.map((l) => ({ sku: l.sku, available: -l.quantity, reserved: l.quantity, committed: 0 }));
}
