import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, encodeCursor } from '../src/cursor.ts';
import { AppError } from '../src/errors.ts';

test('a cursor round-trips its values', () => {
  assert.deepEqual(decodeCursor(encodeCursor(['2026-11-25T10:00:00.000Z', 'abc']), 2), ['2026-11-25T10:00:00.000Z', 'abc']);
});

test('a cursor the API did not make is refused with INVALID_CURSOR', () => {
  for (const bad of ['!!!', encodeCursor(['only-one']), Buffer.from('{"a":1}').toString('base64url')]) {
    assert.throws(() => decodeCursor(bad, 2), (e: unknown) => e instanceof AppError && e.code === 'INVALID_CURSOR' && e.status === 400);
  }
});
