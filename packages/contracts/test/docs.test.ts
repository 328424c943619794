import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ErrorCodes, FailureCodes } from '../src/index.ts';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

test('every HTTP error code and every failure reason code is documented in the README', () => {
  const missing = [...ErrorCodes, ...FailureCodes].filter((code) => !readme.includes(`\`${code}\``));
  assert.deepEqual(missing, []);
});
