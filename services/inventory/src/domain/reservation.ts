import type { FailureReason, Money, OrderLine, PricedLine } from '@oms/contracts';

export interface StockLevel {
  sku: string;
  available: number;
  price: Money;
}

export type ReservationPlan =
  | { ok: true; lines: PricedLine[]; total: Money }
  | { ok: false; reasons: FailureReason[] };

/** Lines for the same SKU become one line: a reservation is per (order, SKU). */
export function mergeLines(lines: readonly OrderLine[]): OrderLine[] {
  const bySku = new Map<string, number>();
  for (const l of lines) bySku.set(l.sku, (bySku.get(l.sku) ?? 0) + l.quantity);
  return [...bySku].map(([sku, quantity]) => ({ sku, quantity })).sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

/**
 * All lines or none: decides whether an order's lines can be reserved from these stock levels,
 * and at what prices. Pure; the caller holds the rows locked while it applies the plan.
 */
export function planReservation(lines: readonly OrderLine[], stock: ReadonlyMap<string, StockLevel>): ReservationPlan {
  const merged = mergeLines(lines);
  const unknown = merged.filter((l) => !stock.has(l.sku)).map((l) => l.sku);
  const reasons: FailureReason[] = [];
  if (unknown.length > 0) reasons.push({ code: 'UNKNOWN_SKU', message: `unknown SKU: ${unknown.join(', ')}` });
  for (const l of merged) {
    const s = stock.get(l.sku);
    if (s && s.available < l.quantity) {
      reasons.push({ code: 'INSUFFICIENT_STOCK', message: `${l.sku}: ${l.quantity} requested, ${s.available} available` });
    }
  }
  const currencies = new Set(merged.flatMap((l) => (stock.has(l.sku) ? [stock.get(l.sku)!.price.currency] : [])));
  if (currencies.size > 1) reasons.push({ code: 'CURRENCY_MISMATCH', message: `the order mixes currencies: ${[...currencies].join(', ')}` });
  if (reasons.length > 0) return { ok: false, reasons };

  const priced = merged.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: stock.get(l.sku)!.price }));
  const total = { amount: priced.reduce((sum, l) => sum + l.quantity * l.unitPrice.amount, 0), currency: priced[0]!.unitPrice.currency };
  // Cannot happen within MAX_UNIT_PRICE and MAX_ORDER_UNITS; a product priced before those bounds
  // existed could still get here, and a rounded total must never be reserved or charged.
  if (!Number.isSafeInteger(total.amount)) return { ok: false, reasons: [{ code: 'ORDER_TOTAL_TOO_LARGE', message: 'the order total cannot be represented exactly' }] };
  return { ok: true, lines: priced, total };
}
