import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isTransient } from '../src/errors.ts';

/** The error a real connect attempt fails with. */
function connectError(target: { path: string } | { port: number; host: string }): Promise<Error> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(target);
    socket.once('connect', () => reject(new Error('connected, expected a failure')));
    socket.once('error', resolve);
  });
}

test('a database that is down is a transient failure, over TCP and over a Unix socket', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'oms-errors-'));
  try {
    // The socket file of a stopped PostgreSQL does not exist: connect fails with ENOENT.
    const viaSocket = await connectError({ path: join(dir, '.s.PGSQL.1') });
    assert.equal((viaSocket as { code?: string }).code, 'ENOENT');
    assert.equal(isTransient(viaSocket), true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const viaTcp = await connectError({ port: 1, host: '127.0.0.1' });
  assert.equal((viaTcp as { code?: string }).code, 'ECONNREFUSED');
  assert.equal(isTransient(viaTcp), true);
  assert.equal(isTransient(Object.assign(new Error('the server is shutting down'), { code: '57P01' })), true);
});

test('business and programming errors are not transient', () => {
  assert.equal(isTransient(new Error('order has a saga but no order row')), false);
  // A missing file is only transient when it is a socket being connected to.
  assert.equal(isTransient(Object.assign(new Error('no such file'), { code: 'ENOENT', syscall: 'open' })), false);
  assert.equal(isTransient(Object.assign(new Error('duplicate key'), { code: '23505' })), false);
  assert.equal(isTransient(undefined), false);
});
