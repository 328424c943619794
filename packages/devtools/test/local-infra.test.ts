// The local Kafka and PostgreSQL that npm start and npm test run: they start, answer, keep their
// data across a restart, and a taken port is reported in one clear sentence.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { assertPortFree, findFreePort, startLocalKafka, startLocalPostgres } from '../src/local/index.ts';

// The broker's jars are shared with npm start, so they are fetched at most once.
const cacheDir = join(import.meta.dirname, '..', '..', '..', '.cache');
const scratch = await mkdtemp(join(tmpdir(), 'oms-local-infra-'));
// As root, PostgreSQL runs as the postgres user, which must be able to enter this folder.
await chmod(scratch, 0o755);
after(() => rm(scratch, { recursive: true, force: true }));

async function occupy(port: number): Promise<Server> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

test('a taken port is reported in one sentence naming the variable that moves it', async () => {
  const port = await findFreePort();
  const server = await occupy(port);
  try {
    await assert.rejects(assertPortFree(port, '127.0.0.1', 'Kafka broker', 'OMS_KAFKA_PORT'), {
      message: `Port ${port} (Kafka broker) is already in use on 127.0.0.1; stop what uses it or set OMS_KAFKA_PORT to another port.`,
    });
    await assert.rejects(startLocalPostgres({ dataDir: join(scratch, 'pg-unused'), port }), /^Error: Port \d+ \(PostgreSQL\) is already in use on 127\.0\.0\.1; .* set OMS_PG_PORT /);
    const free = await findFreePort();
    await assert.rejects(
      startLocalKafka({ cacheDir, dataDir: join(scratch, 'kafka-unused'), port: free, controllerPort: port }),
      /Port \d+ \(Kafka controller\) is already in use on 127\.0\.0\.1; .* set OMS_KAFKA_CONTROLLER_PORT /,
    );
  } finally {
    server.close();
  }
  await assertPortFree(port, '127.0.0.1', 'Kafka broker', 'OMS_KAFKA_PORT');
});

test('PostgreSQL starts, answers, and keeps its data across a restart', { timeout: 120_000 }, async () => {
  const dataDir = join(scratch, 'postgres');
  const port = await findFreePort();
  const query = async (url: string, sql: string): Promise<unknown[]> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };

  let db = await startLocalPostgres({ dataDir, port });
  try {
    // Services connect through the Unix socket in the cluster's folder; TCP answers too.
    const socketDir = join(dataDir, 'pgdata');
    assert.equal(db.url, `postgres://postgres:postgres@127.0.0.1:${port}/postgres?host=${encodeURIComponent(socketDir)}`);
    assert.deepEqual(await query(db.url, "select 1 as one, inet_server_addr() is null as over_socket"), [{ one: 1, over_socket: true }]);
    assert.deepEqual(await query(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`, 'select inet_server_addr() is null as over_socket'), [{ over_socket: false }]);
    assert.deepEqual(await query(db.url, 'show max_connections'), [{ max_connections: '400' }]);
    await query(db.url, "create table kept (v text); insert into kept values ('still here')");
  } finally {
    await db.stop();
  }
  await assertPortFree(port, '127.0.0.1', 'PostgreSQL', 'OMS_PG_PORT');

  db = await startLocalPostgres({ dataDir, port });
  try {
    assert.deepEqual(await query(db.url, 'select v from kept'), [{ v: 'still here' }]);
  } finally {
    await db.stop();
  }
});

test(
  'as root, a data folder inside a folder closed to other users moves to one the postgres user can reach: the same one every start',
  { timeout: 120_000, skip: process.getuid?.() !== 0 && 'only root hands PostgreSQL to the postgres user' },
  async () => {
    const closed = join(scratch, 'closed');
    await mkdir(closed, { mode: 0o700 });
    await chmod(closed, 0o700);
    const shared = join(scratch, 'shared');
    const before = process.env.OMS_POSTGRES_SHARED_DIR;
    process.env.OMS_POSTGRES_SHARED_DIR = shared;
    try {
      const asked = join(closed, 'postgres');
      const port = await findFreePort();
      const said: string[] = [];
      let db = await startLocalPostgres({ dataDir: asked, port, log: (m) => said.push(m) });
      const used = db.dataDir;
      try {
        assert.ok(used.startsWith(`${shared}/data-`), `kept under the reachable folder: ${used}`);
        assert.ok(said.some((m) => m.includes(used) && m.includes(closed)), `the log names both folders: ${said.join(' | ')}`);
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        await client.query("create table kept (v text); insert into kept values ('found again')");
        await client.end();
      } finally {
        await db.stop();
      }
      db = await startLocalPostgres({ dataDir: asked, port });
      try {
        assert.equal(db.dataDir, used, 'the next start finds the same folder');
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        assert.deepEqual((await client.query('select v from kept')).rows, [{ v: 'found again' }]);
        await client.end();
      } finally {
        await db.stop();
      }
    } finally {
      if (before === undefined) delete process.env.OMS_POSTGRES_SHARED_DIR;
      else process.env.OMS_POSTGRES_SHARED_DIR = before;
    }
  },
);

test('Kafka starts, answers, and keeps topics and messages across a restart', { timeout: 300_000 }, async () => {
  const dataDir = join(scratch, 'kafka');
  const port = await findFreePort();
  const controllerPort = await findFreePort();
  const topic = 'local-infra-kept';
  const options = { cacheDir, dataDir, port, controllerPort, heapMb: 384 };

  let kafka = await startLocalKafka(options);
  try {
    assert.equal(kafka.brokers, `127.0.0.1:${port}`);
    const admin = new Admin({ clientId: 'local-infra-test', bootstrapBrokers: [kafka.brokers] });
    try {
      await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
      assert.ok((await admin.listTopics()).includes(topic));
    } finally {
      await admin.close();
    }
    const producer = new Producer({ clientId: 'local-infra-test', bootstrapBrokers: [kafka.brokers], serializers: stringSerializers, idempotent: true, acks: -1 });
    try {
      await producer.send({ messages: [{ topic, key: 'k', value: 'still here' }] });
    } finally {
      await producer.close();
    }
  } finally {
    await kafka.stop();
  }
  await assertPortFree(port, '127.0.0.1', 'Kafka broker', 'OMS_KAFKA_PORT');

  // A different controller port on the same data folder must work too (OMS_KAFKA_CONTROLLER_PORT may change).
  kafka = await startLocalKafka({ ...options, controllerPort: await findFreePort() });
  try {
    const admin = new Admin({ clientId: 'local-infra-test', bootstrapBrokers: [kafka.brokers] });
    try {
      assert.ok((await admin.listTopics()).includes(topic));
    } finally {
      await admin.close();
    }
    const consumer = new Consumer({ groupId: 'local-infra-test', clientId: 'local-infra-test', bootstrapBrokers: [kafka.brokers], deserializers: stringDeserializers });
    try {
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest' });
      const [message] = (await once(stream, 'data', { signal: AbortSignal.timeout(60_000) })) as [{ key: string; value: string }];
      assert.equal(message.value, 'still here');
      await stream.close();
    } finally {
      await consumer.close(true);
    }
  } finally {
    await kafka.stop();
  }
});
