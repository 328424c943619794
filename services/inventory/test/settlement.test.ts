import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reservationMoves, settlementMoves, type StockMove } from '../src/domain/settlement.ts';

const conserved = (m: StockMove) => m.available + m.reserved + m.committed === 0;

test('reserving moves units from available to reserved and conserves stock', () => {
  const moves = reservationMoves([{ sku: 'A', quantity: 2 }]);
  assert.deepEqual(moves, [{ sku: 'A', available: -2, reserved: 2, committed: 0 }]);
  assert.ok(moves.every(conserved));
});

test('committing moves reserved units to committed and ignores lines already settled', () => {
  const moves = settlementMoves(
    [
      { sku: 'A', quantity: 2, state: 'RESERVED' },
      { sku: 'B', quantity: 5, state: 'RELEASED' },
      { sku: 'C', quantity: 1, state: 'COMMITTED' },
    ],
    'COMMITTED',
  );
  assert.deepEqual(moves, [{ sku: 'A', available: 0, reserved: -2, committed: 2 }]);
});

test('releasing gives back reserved units, and committed ones too (a cancel after delivery was readied)', () => {
  const moves = settlementMoves(
    [
      { sku: 'A', quantity: 2, state: 'RESERVED' },
      { sku: 'B', quantity: 3, state: 'COMMITTED' },
      { sku: 'C', quantity: 4, state: 'RELEASED' },
    ],
    'RELEASED',
  );
  assert.deepEqual(moves, [
    { sku: 'A', available: 2, reserved: -2, committed: 0 },
    { sku: 'B', available: 3, reserved: 0, committed: -3 },
  ]);
  assert.ok(moves.every(conserved));
});

test('settling lines that are all settled already moves nothing', () => {
  assert.deepEqual(settlementMoves([{ sku: 'A', quantity: 2, state: 'RELEASED' }], 'RELEASED'), []);
});
