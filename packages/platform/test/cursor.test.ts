import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, encodeCursor } from '../src/cursor.ts';
import { AppError } from '../src/errors.ts';

const isInvalidCursor = (e: unknown) => e instanceof AppError && e.code === 'INVALID_CURSOR' && e.status === 400;

test('a cursor round-trips its values', () => {
  const id = '0b5e2a8e-9d4c-4c1e-8f3a-2b1c0d9e8f7a';
  assert.deepEqual(decodeCursor(encodeCursor(['2026-11-25T10:00:00.000Z', id]), ['timestamp', 'uuid']), ['2026-11-25T10:00:00.000Z', id]);
  assert.deepEqual(decodeCursor(encodeCursor([42]), ['integer']), [42]);
  assert.deepEqual(decodeCursor(encodeCursor(['SKU-1']), ['text']), ['SKU-1']);
});

test('a cursor the API did not make is refused with INVALID_CURSOR', () => {
  for (const bad of ['!!!', encodeCursor(['only-one']), Buffer.from('{"a":1}').toString('base64url')]) {
    assert.throws(() => decodeCursor(bad, ['timestamp', 'uuid']), isInvalidCursor);
  }
});

test('a cursor of the right shape but the wrong content is refused before it reaches a query', () => {
  assert.throws(() => decodeCursor(encodeCursor(['x', 'y']), ['timestamp', 'uuid']), isInvalidCursor);
  assert.throws(() => decodeCursor(encodeCursor(['2026-13-45T99:00:00.000Z', '0b5e2a8e-9d4c-4c1e-8f3a-2b1c0d9e8f7a']), ['timestamp', 'uuid']), isInvalidCursor);
  for (const impossible of ['2024-02-30T00:00:00.000Z', '0000-01-01T00:00:00.000Z', '2026-11-25T10:00:00Z', '2026-11-25T24:00:00.000Z']) {
    assert.throws(() => decodeCursor(encodeCursor([impossible, '0b5e2a8e-9d4c-4c1e-8f3a-2b1c0d9e8f7a']), ['timestamp', 'uuid']), isInvalidCursor, impossible);
  }
  assert.throws(() => decodeCursor(encodeCursor(['12']), ['integer']), isInvalidCursor);
  assert.throws(() => decodeCursor(encodeCursor([-1]), ['integer']), isInvalidCursor);
  assert.throws(() => decodeCursor(encodeCursor([1e300]), ['integer']), isInvalidCursor);
  assert.throws(() => decodeCursor(encodeCursor(['a\u0000b']), ['text']), isInvalidCursor);
  assert.throws(() => decodeCursor(encodeCursor(['not-a-uuid']), ['uuid']), isInvalidCursor);
});
