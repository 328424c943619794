import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, isMessage, ReserveStock, UnreadableMessageError, ValidateUser } from '../src/index.ts';

const envelope = (overrides: Record<string, unknown> = {}) => ({
  messageId: '5b0c2a52-4f4e-4d7e-9a57-3f0e1c9d2b11',
  type: 'user.validate',
  version: 1,
  orderId: '0f8fad5b-d9cb-469f-a165-70867728950e',
  correlationId: '0f8fad5b-d9cb-469f-a165-70867728950e',
  causationId: null,
  occurredAt: '2026-11-25T10:00:00.000Z',
  payload: { userId: 'u-1' },
  ...overrides,
});

test('a well-formed message decodes to its definition with a typed payload', () => {
  const m = decodeMessage(JSON.stringify(envelope()));
  assert.ok(isMessage(m, ValidateUser));
  assert.equal(m.payload.userId, 'u-1');
  assert.equal(isMessage(m, ReserveStock), false);
});

const unreadable: [string, string | Buffer, RegExp][] = [
  ['bytes that are not JSON', 'not json', /not JSON/],
  ['an empty value', '', /empty/],
  ['an envelope without a message id', JSON.stringify(envelope({ messageId: undefined })), /envelope invalid/],
  ['an unknown type', JSON.stringify(envelope({ type: 'user.explode' })), /unknown message type user.explode/],
  ['an unknown version', JSON.stringify(envelope({ version: 9 })), /version 9/],
  ['bytes that are not UTF-8', Buffer.concat([Buffer.from('{"messageId":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]), /not valid UTF-8/],
  ['a NUL character in a payload text', JSON.stringify(envelope({ payload: { userId: 'u\u0000-1' } })), /\/payload\/userId contains a NUL character/],
  ['a raw NUL byte in the bytes', Buffer.from(JSON.stringify(envelope()).replace('u-1', 'u\u0000-1')), /NUL|not JSON/],
  ['a payload that does not match its schema', JSON.stringify(envelope({ type: 'inventory.reserve-stock', payload: { items: [] } })), /payload of inventory.reserve-stock invalid/],
];
for (const [name, raw, reason] of unreadable) {
  test(`${name} is unreadable, with a reason a person can act on`, () => {
    assert.throws(() => decodeMessage(raw), (e: unknown) => e instanceof UnreadableMessageError && reason.test(e.message));
  });
}

test('ids in another letter case decode to the same canonical (lower-case) ids', () => {
  const upper = decodeMessage(JSON.stringify(envelope({ messageId: '5B0C2A52-4F4E-4D7E-9A57-3F0E1C9D2B11', orderId: '0F8FAD5B-D9CB-469F-A165-70867728950E' })));
  const lower = decodeMessage(JSON.stringify(envelope()));
  assert.equal(upper.messageId, lower.messageId);
  assert.equal(upper.orderId, lower.orderId);
});
