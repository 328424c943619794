import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OrderStatuses } from '@oms/contracts';
import { notificationText } from '../src/domain/message.ts';

test('a failed order is notified with every reason in words', () => {
  const text = notificationText('o-1', 'FAILED', [
    { code: 'USER_INACTIVE', message: 'user u is inactive' },
    { code: 'INSUFFICIENT_STOCK', message: 'SKU-1: 2 requested, 1 available' },
  ]);
  assert.equal(text, 'Your order o-1 failed: user u is inactive; SKU-1: 2 requested, 1 available.');
});

test('a failure without reasons still reads as a sentence', () => {
  assert.equal(notificationText('o-1', 'FAILED', []), 'Your order o-1 failed: no reason was given.');
});

test('a ready order says it is ready for delivery', () => {
  assert.equal(notificationText('o-2', 'READY_FOR_DELIVERY', []), 'Your order o-2 is ready for delivery.');
});

test('every status has its own text naming the order', () => {
  const texts = OrderStatuses.map((s) => notificationText('o-3', s, []));
  assert.equal(new Set(texts).size, OrderStatuses.length);
  for (const t of texts) assert.match(t, /o-3/);
});
