// The inbox against a real PostgreSQL: claiming ids (and holding orders that have a parked dead
// letter, in the same statement), and forgetting ids past their retention.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { claimMessages, pruneInbox, type Database } from '../src/index.ts';
import { platformDatabase } from './platform-database.ts';

let database: Database<unknown>;
before(async () => {
  database = await platformDatabase('inbox', 2);
});
after(async () => {
  await database.close();
});

test('a claim returns only ids seen for the first time, and holds back orders with a parked dead letter', async () => {
  const [parkedOrder, freeOrder] = [randomUUID(), randomUUID()];
  await sql`insert into dead_letters (topic, partition, "offset", order_id, value, reason, failed)
            values ('t', 0, 1, ${parkedOrder}, '{}', 'test', true)`.execute(database.db);
  const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
  const first = await claimMessages(database.db, [{ messageId: a, orderId: freeOrder }, { messageId: b, orderId: parkedOrder }], true);
  assert.deepEqual([...first.fresh], [a]);
  assert.deepEqual([...first.held], [parkedOrder]);
  // a again (a redelivery) is not fresh; b was held, not claimed, so it is fresh once its order is free.
  await sql`update dead_letters set status = 'REPLAYED' where order_id = ${parkedOrder}`.execute(database.db);
  const second = await claimMessages(database.db, [{ messageId: a, orderId: freeOrder }, { messageId: b, orderId: parkedOrder }, { messageId: c, orderId: freeOrder }], true);
  assert.deepEqual([...second.fresh].sort(), [b, c].sort());
  assert.equal(second.held.size, 0);
  // Without holding (the replay path), a parked order's message is claimed like any other.
  await sql`update dead_letters set status = 'PARKED' where order_id = ${parkedOrder}`.execute(database.db);
  const d = randomUUID();
  assert.deepEqual([...(await claimMessages(database.db, [{ messageId: d, orderId: parkedOrder }])).fresh], [d]);
});

test('pruning forgets ids older than the retention, in chunks, and keeps the newer ones', async () => {
  await sql`delete from inbox`.execute(database.db);
  const old = Array.from({ length: 5 }, () => randomUUID());
  const recent = Array.from({ length: 2 }, () => randomUUID());
  await sql`insert into inbox (message_id, received_at) select unnest(${old}::uuid[]), now() - interval '8 days'`.execute(database.db);
  await sql`insert into inbox (message_id, received_at) select unnest(${recent}::uuid[]), now() - interval '1 hour'`.execute(database.db);
  const deleted = await pruneInbox(database.db, new Date(Date.now() - 7 * 24 * 3_600_000), 2);
  assert.equal(deleted, 5);
  const left = await sql<{ message_id: string }>`select message_id from inbox`.execute(database.db);
  assert.deepEqual(left.rows.map((r) => r.message_id).sort(), [...recent].sort());
});
