import { test } from 'node:test';
import assert from 'node:assert/strict';
import { notificationText } from '../src/domain/message.ts';

test('a failed order is notified with every reason in words', () => {
  const text = notificationText('o-1', 'FAILED', [
    { code: 'USER_INACTIVE', message: 'user u is inactive' },
    { code: 'INSUFFICIENT_STOCK', message: 'only 1 of SKU-1 left' },
  ]);
  assert.equal(text, 'Your order o-1 could not be completed: user u is inactive; only 1 of SKU-1 left.');
});

test('a ready order says it is ready for delivery', () => {
  assert.match(notificationText('o-2', 'READY_FOR_DELIVERY', []), /o-2 is ready for delivery/);
});
