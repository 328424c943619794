// ValidateUser commands applied a whole batch at a time (one read for all their users), on real
// PostgreSQL: each command gets its own answer, as applying them one by one would give.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { decodeMessage, ValidateUser } from '@oms/contracts';
import { applyInTransaction, buildMessage, ensureDatabase, migrate, openDatabase, withDatabaseName, type Database } from '@oms/platform';
import { insertUser } from '../src/db/users.ts';
import type { UserDb } from '../src/db/schema.ts';
import { handleUserCommand } from '../src/kafka/handlers.ts';

let database: Database<UserDb>;
before(async () => {
  const url = withDatabaseName(process.env.OMS_TEST_DATABASE_URL!, `validate_batch_${randomBytes(4).toString('hex')}`);
  await ensureDatabase(url);
  database = openDatabase<UserDb>(url, { max: 2 });
  await migrate(database.pool, new URL('../migrations/', import.meta.url).pathname);
});
after(async () => database?.close());

test('a batch of ValidateUser commands: one answer each, in order, whatever the mix', async () => {
  const active = randomUUID();
  const inactive = randomUUID();
  for (const [id, isActive] of [[active, true], [inactive, false]] as const) {
    await insertUser(database.db, { id, name: 'U', email: `${id}@example.com`, active: isActive, role: 'customer', passwordHash: null });
  }
  const userIds = [active, inactive, randomUUID(), 'not-a-uuid', active.toUpperCase(), active];
  const commands = userIds.map((userId) => decodeMessage(buildMessage('', ValidateUser, { userId }, { orderId: randomUUID() }).value));
  const { after: afterCommit } = await database.db.transaction().execute((trx) => applyInTransaction(trx, handleUserCommand, '', commands));
  afterCommit();

  const { rows } = await sql<{ value: string }>`select value from outbox order by id`.execute(database.db);
  const answers = rows.map((r) => JSON.parse(r.value) as { orderId: string; causationId: string; payload: { ok: boolean; reasons: { code: string }[] } });
  assert.deepEqual(
    answers.map((a) => [a.causationId, a.payload.ok, a.payload.reasons.map((r) => r.code).join()]),
    [
      [commands[0]!.messageId, true, ''],
      [commands[1]!.messageId, false, 'USER_INACTIVE'],
      [commands[2]!.messageId, false, 'USER_NOT_FOUND'],
      [commands[3]!.messageId, false, 'USER_NOT_FOUND'],
      [commands[4]!.messageId, true, ''], // the same user, its id in upper case
      [commands[5]!.messageId, true, ''],
    ],
  );
  assert.deepEqual(answers.map((a) => a.orderId), commands.map((c) => c.orderId), 'each answer for its own order');
});
