import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeLines, planReservation, type StockLevel } from '../src/domain/reservation.ts';

const eur = (amount: number) => ({ amount, currency: 'EUR' });
const stock = (levels: [string, number, number, string?][]) =>
  new Map<string, StockLevel>(levels.map(([sku, available, amount, currency]) => [sku, { sku, available, price: { amount, currency: currency ?? 'EUR' } }]));

test('lines for the same SKU are merged before stock is checked', () => {
  assert.deepEqual(mergeLines([{ sku: 'B', quantity: 1 }, { sku: 'A', quantity: 2 }, { sku: 'B', quantity: 3 }]), [
    { sku: 'A', quantity: 2 },
    { sku: 'B', quantity: 4 },
  ]);
  const plan = planReservation([{ sku: 'A', quantity: 2 }, { sku: 'A', quantity: 2 }], stock([['A', 3, 100]]));
  assert.equal(plan.ok, false);
});

test('a reservation that fits prices every line and totals the order', () => {
  const plan = planReservation([{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }], stock([['A', 5, 250], ['B', 1, 1000]]));
  assert.deepEqual(plan, {
    ok: true,
    lines: [
      { sku: 'A', quantity: 2, unitPrice: eur(250) },
      { sku: 'B', quantity: 1, unitPrice: eur(1000) },
    ],
    total: eur(1500),
  });
});

test('one short line refuses the whole order and says which SKU and by how much', () => {
  const plan = planReservation([{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 3 }], stock([['A', 5, 1], ['B', 2, 1]]));
  assert.deepEqual(plan, { ok: false, reasons: [{ code: 'INSUFFICIENT_STOCK', message: 'B: 3 requested, 2 available' }] });
});

test('unknown SKUs are named together', () => {
  const plan = planReservation([{ sku: 'X', quantity: 1 }, { sku: 'Y', quantity: 1 }], stock([]));
  assert.deepEqual(plan, { ok: false, reasons: [{ code: 'UNKNOWN_SKU', message: 'unknown SKU: X, Y' }] });
});

test('an order mixing currencies is refused', () => {
  const plan = planReservation([{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 1 }], stock([['A', 5, 1, 'EUR'], ['B', 5, 1, 'USD']]));
  assert.equal(plan.ok, false);
  assert.equal(!plan.ok && plan.reasons[0]!.code, 'CURRENCY_MISMATCH');
});

test('an unknown SKU and a short SKU are both reported, and nothing is priced', () => {
  const plan = planReservation([{ sku: 'A', quantity: 9 }, { sku: 'X', quantity: 1 }], stock([['A', 1, 100]]));
  assert.deepEqual(plan, {
    ok: false,
    reasons: [
      { code: 'UNKNOWN_SKU', message: 'unknown SKU: X' },
      { code: 'INSUFFICIENT_STOCK', message: 'A: 9 requested, 1 available' },
    ],
  });
});

test('duplicate lines that fit together are reserved as one priced line', () => {
  const plan = planReservation([{ sku: 'A', quantity: 1 }, { sku: 'A', quantity: 2 }], stock([['A', 3, 100]]));
  assert.deepEqual(plan, { ok: true, lines: [{ sku: 'A', quantity: 3, unitPrice: eur(100) }], total: eur(300) });
});

test('taking exactly what is available is allowed', () => {
  assert.equal(planReservation([{ sku: 'A', quantity: 3 }], stock([['A', 3, 1]])).ok, true);
});
