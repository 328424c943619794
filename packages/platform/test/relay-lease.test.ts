// The outbox relay's leadership is a lease: with two relays on one database only the holder
// publishes, and when the holder vanishes (here: it loses its database) the other takes over
// within the lease's time, with every row published once or more, in order. Real Kafka and
// PostgreSQL.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { createLogger, ensureDatabase, ensureTopics, Lease, migrate, openDatabase, startOutboxRelay, withDatabaseName, type Database } from '../src/index.ts';
import { waitFor } from '@oms/devtools/testing';

let url: string;
let database: Database<unknown>;
let scratch: string;
const brokers = () => process.env.OMS_TEST_KAFKA_BROKERS!.split(',');
before(async () => {
  url = withDatabaseName(process.env.OMS_TEST_DATABASE_URL!, `lease_${randomBytes(3).toString('hex')}`);
  await ensureDatabase(url);
  database = openDatabase(url, { max: 3 });
  scratch = await mkdtemp(join(tmpdir(), 'oms-lease-'));
  await migrate(database.pool, scratch); // the platform's tables only
});
after(async () => {
  await database.close();
  await rm(scratch, { recursive: true, force: true });
});

test('a lease has one holder; it passes on at release, and on expiry when the holder stops renewing', async () => {
  const name = `job-${randomUUID()}`;
  const a = new Lease({ pool: database.pool, name, ttlMs: 600, retryMs: 50 });
  const b = new Lease({ pool: database.pool, name, ttlMs: 600, retryMs: 50 });
  assert.equal(await a.hold(), true);
  assert.equal(await b.hold(), false, 'held by a');
  await new Promise((r) => setTimeout(r, 250)); // past a third of the lease: the next hold renews it in the database
  assert.equal(await a.hold(), true, 'a renews its own');
  const { rows } = await sql<{ holder: string; left_ms: number }>`select holder, extract(epoch from expires_at - now()) * 1000 as left_ms from leases where name = ${name}`.execute(database.db);
  assert.equal(rows[0]!.holder, a.holder);
  assert.ok(rows[0]!.left_ms > 450, `renewed: ${Math.round(rows[0]!.left_ms)} ms left of 600`);
  await a.release();
  assert.equal(a.held(), false);
  await waitFor(() => b.hold(), (h) => h, 'b to take the released lease', 2_000);
  // b stops renewing (as a process that vanished would): a takes over once the row has expired.
  const since = Date.now();
  await waitFor(() => a.hold(), (h) => h, 'a to take the expired lease', 5_000);
  assert.ok(Date.now() - since >= 400, 'not before the lease ran out');
  assert.equal(b.held(), false, 'b no longer believes it holds it either');
  assert.equal(await b.hold(), false);
});

async function insertRows(topic: string, key: string, from: number, to: number) {
  for (let n = from; n <= to; n++) {
    await sql`insert into outbox (topic, message_key, message_id, value) values (${topic}, ${key}, ${randomUUID()}::uuid, ${JSON.stringify({ n })})`.execute(database.db);
  }
}

test('when the relaying instance vanishes, the other takes over within the lease, losing and reordering nothing', async () => {
  const topic = `lease-${randomBytes(4).toString('hex')}`;
  await ensureTopics(brokers(), [{ name: topic, partitions: 1 }]);
  const key = randomUUID();
  const leaseMs = 1_000;
  const pools = { a: openDatabase(url, { max: 2 }), b: openDatabase(url, { max: 2 }) };
  const relays = Object.fromEntries(
    (['a', 'b'] as const).map((id) => [id, startOutboxRelay({ pool: pools[id].pool, brokers: brokers(), clientId: `relay-${id}`, logger: createLogger(`relay-${id}`, 'silent'), idlePollMs: 50, leaseMs })]),
  ) as Record<'a' | 'b', ReturnType<typeof startOutboxRelay>>;
  try {
    await insertRows(topic, key, 1, 50);
    await waitFor(() => relays.a.pending(), (n) => n === 0, 'the outbox to drain', 30_000);
    const { rows } = await sql<{ holder: string }>`select holder from leases where name = 'outbox-relay'`.execute(database.db);
    assert.equal(rows.length, 1);
    const leader = rows[0]!.holder.startsWith('relay-a:') ? 'a' : 'b';
    const other = leader === 'a' ? 'b' : 'a';
    assert.ok(rows[0]!.holder.startsWith(`relay-${leader}:`));

    // The leader loses its database for good, without releasing anything.
    await pools[leader].close();
    const lostAt = Date.now();
    await insertRows(topic, key, 51, 100);
    await waitFor(() => relays[other].pending(), (n) => n === 0, 'the other relay to drain the outbox', 30_000);
    const tookMs = Date.now() - lostAt;
    assert.ok(tookMs < leaseMs * 4, `taken over in ${tookMs} ms, a lease is ${leaseMs} ms`);
    const { rows: after } = await sql<{ holder: string }>`select holder from leases where name = 'outbox-relay'`.execute(database.db);
    assert.ok(after[0]!.holder.startsWith(`relay-${other}:`), 'the lease moved');
  } finally {
    await relays.a.stop();
    await relays.b.stop();
    await pools.a.close().catch(() => undefined);
    await pools.b.close().catch(() => undefined);
  }

  const consumer = new Consumer({ groupId: `lease-reader-${randomUUID()}`, clientId: 'lease-reader', bootstrapBrokers: brokers(), deserializers: stringDeserializers });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
    const seen: number[] = [];
    stream.on('data', (m) => seen.push((JSON.parse(m.value) as { n: number }).n));
    await waitFor(() => Promise.resolve(new Set(seen).size), (n) => n === 100, 'all 100 rows on the topic', 30_000);
    const firstCopies = seen.filter((n, i) => seen.indexOf(n) === i);
    assert.deepEqual(firstCopies, Array.from({ length: 100 }, (_, i) => i + 1), 'every row, first copies in order');
    await stream.close();
  } finally {
    await consumer.close(true);
  }
});

test('even two relays publishing the same outbox at once lose nothing and keep each key in order (first copies)', async () => {
  const topic = `two-relays-${randomBytes(4).toString('hex')}`;
  await ensureTopics(brokers(), [{ name: topic, partitions: 3 }]);
  const keys = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const pools = [openDatabase(url, { max: 2 }), openDatabase(url, { max: 2 })];
  // Different lease names: both lead, as two relays would in the moments a lease changes hands.
  const relays = pools.map((p, i) =>
    startOutboxRelay({ pool: p.pool, brokers: brokers(), clientId: `both-${i}`, logger: createLogger(`both-${i}`, 'silent'), idlePollMs: 5, batchSize: 7, leaseName: `both-${i}-${topic}` }),
  );
  try {
    for (let n = 1; n <= 200; n++) {
      const key = keys[n % keys.length]!;
      await sql`insert into outbox (topic, message_key, message_id, value) values (${topic}, ${key}, ${randomUUID()}::uuid, ${JSON.stringify({ key, n })})`.execute(database.db);
    }
    await waitFor(() => relays[0]!.pending(), (n) => n === 0, 'the outbox to drain', 30_000);
  } finally {
    for (const r of relays) await r.stop();
    for (const p of pools) await p.close();
  }
  const consumer = new Consumer({ groupId: `two-relays-${randomUUID()}`, clientId: 'two-relays', bootstrapBrokers: brokers(), deserializers: stringDeserializers });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
    const seen: { key: string; n: number }[] = [];
    stream.on('data', (m) => seen.push(JSON.parse(m.value) as { key: string; n: number }));
    await waitFor(() => Promise.resolve(new Set(seen.map((s) => s.n)).size), (n) => n === 200, 'all 200 rows on the topic', 30_000);
    assert.ok(seen.length > 200, `both relays published (${seen.length} copies of 200 rows): the test ran two at once`);
    for (const key of keys) {
      const ns = seen.filter((s) => s.key === key).map((s) => s.n);
      const first = ns.filter((n, i) => ns.indexOf(n) === i);
      assert.deepEqual(first, [...first].sort((a, b) => a - b), `key ${key}: first copies in order`);
    }
    await stream.close();
  } finally {
    await consumer.close(true);
  }
});
