// The fault suite (issue 3): orders flow through the whole system while every kind of fault is
// injected several times; then the invariants of ARCHITECTURE.md are checked on the services' own
// databases and a summary is printed. It runs its own Kafka and PostgreSQL, because it stops and
// restarts them.
//
// `npm run test:faults-cluster` runs it again with two instances of every service and a three-node
// Kafka cluster (OMS_FAULTS_INSTANCES=2, OMS_FAULTS_KAFKA_NODES=3): one instance of each service is
// SIGKILLed at a time (a consumer-group rebalance), one broker at a time is killed and restarted,
// and cancels and operator retries go to random instances.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Consumer, MessagesStreamModes, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { decodeMessage, prefixed, Topics } from '@oms/contracts';
import { findFreePort, startLocalKafka, startLocalPostgres, type LocalKafka, type LocalPostgres } from '@oms/devtools/local';
import { harnessAccess, repoRoot, startSystem, type RunningSystem } from '@oms/devtools/system';
import { apiClient, login, waitForConsumersCaughtUp, type ApiClient } from '@oms/devtools/testing';
import { checkInvariants, SERVICES, waitUntilSettled } from '../../tools/lib/invariants.ts';
import { faultSummary, type FaultSummary } from './summary.ts';
import { Load, pick } from './load.ts';

const INSTANCES = Number(process.env.OMS_FAULTS_INSTANCES || 1);
const KAFKA_NODES = Number(process.env.OMS_FAULTS_KAFKA_NODES || 1);
const PREFIX = `faults${randomBytes(2).toString('hex')}`;
const DEADLINE_MS = 3_000;
const PARTICIPANTS = ['user', 'inventory', 'payment'] as const;
const TOPICS = [Topics.userCommands, Topics.inventoryCommands, Topics.paymentCommands, Topics.sagaReplies, Topics.orderEvents] as const;
const FINAL = ['READY_FOR_DELIVERY', 'FAILED', 'CANCELLED'];
const log = (line: string) => console.log(`  [faults] ${line}`);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Infra {
  dataDir: string;
  ports: { pg: number; kafka: number; controller: number; moreNodes: { port: number; controllerPort: number }[] };
  pg: LocalPostgres;
  kafka: LocalKafka;
}

const startPg = (i: Pick<Infra, 'dataDir' | 'ports'>) => startLocalPostgres({ dataDir: join(i.dataDir, 'postgres'), port: i.ports.pg });
const startKafka = (i: Pick<Infra, 'dataDir' | 'ports'>) =>
  startLocalKafka({ cacheDir: join(repoRoot, '.cache'), dataDir: join(i.dataDir, 'kafka'), port: i.ports.kafka, controllerPort: i.ports.controller, moreNodes: i.ports.moreNodes, heapMb: 384 });
const bootstrap = (kafka: LocalKafka) => kafka.brokers.split(',');


describe('fault suite: orders keep their invariants through crashes, broker and database restarts, silence, duplicates and poison', () => {
  let infra: Infra;
  let system: RunningSystem;
  let api: ApiClient;
  let operatorToken = '';
  const started = Date.now();
  const faults = new Map<string, number>();
  const count = (kind: string) => faults.set(kind, (faults.get(kind) ?? 0) + 1);
  const initialStock = new Map<string, number>();
  let poisonSent = 0;

  before(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'oms-faults-'));
    await chmod(dataDir, 0o755); // PostgreSQL runs as the postgres user when we are root
    const moreNodes = [];
    for (let n = 1; n < KAFKA_NODES; n++) moreNodes.push({ port: await findFreePort(), controllerPort: await findFreePort() });
    const ports = { pg: await findFreePort(), kafka: await findFreePort(), controller: await findFreePort(), moreNodes };
    const [pgServer, kafka] = await Promise.all([startPg({ dataDir, ports }), startKafka({ dataDir, ports })]);
    infra = { dataDir, ports, pg: pgServer, kafka };
    const logDir = join(repoRoot, '.cache', 'test-logs', PREFIX);
    await mkdir(logDir, { recursive: true });
    const access = harnessAccess();
    system = await startSystem({
      auth: access.auth,
      databaseUrl: pgServer.url,
      brokers: kafka.brokers,
      prefix: PREFIX,
      gatewayPort: 0,
      instances: INSTANCES,
      replicationFactor: kafka.replicationFactor,
      logDir,
      logLevel: 'info',
      env: {
        ...access.env,
        SAGA_STEP_DEADLINE_MS: String(DEADLINE_MS),
        SAGA_SWEEP_INTERVAL_MS: '200',
        SAGA_RETRY_INITIAL_MS: '500',
        SAGA_RETRY_MAX_INTERVAL_MS: '5000',
        // Compensations must outlast the outages below rather than give up.
        SAGA_COMPENSATION_MAX_ATTEMPTS: '1000',
      },
    });
    // The operator drives the run: it seeds, places orders for every user (and for one who does not
    // exist), and cancels.
    operatorToken = (await login(system.baseUrl, access.operator.email, access.operator.password)).accessToken;
    api = apiClient(system.baseUrl, operatorToken);
    log(`system up: ${INSTANCES} instance(s) of every service, ${KAFKA_NODES} Kafka node(s) (logs in ${logDir})`);
  });

  after(async () => {
    await system?.stop();
    await Promise.allSettled([infra?.kafka.stop(), infra?.pg.stop()]);
    if (infra) await rm(infra.dataDir, { recursive: true, force: true });
  });

  async function seed(): Promise<{ users: string[]; skus: { normal: string[]; hot: string[] } }> {
    const users: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await api.post('/api/users', { name: `Fault User ${i}`, email: `fault-${i}-${randomBytes(3).toString('hex')}@example.com` });
      assert.equal(res.status, 201);
      users.push(res.body.id);
      if (i < 3) assert.equal((await api.patch(`/api/users/${res.body.id}`, { active: false })).status, 200); // USER_INACTIVE
      // A tight credit limit: PAYMENT_DECLINED now and then.
      if (i >= 3 && i < 6) assert.equal((await api.post('/api/payments/accounts', { userId: res.body.id, creditLimit: { amount: 5_000, currency: 'EUR' } })).status, 200);
    }
    users.push(`missing-${randomBytes(3).toString('hex')}`); // USER_NOT_FOUND
    const skus = { normal: [] as string[], hot: [] as string[] };
    for (let i = 0; i < 24; i++) {
      const hot = i < 3;
      const sku = `F-${hot ? 'HOT' : 'SKU'}-${i}-${randomBytes(2).toString('hex')}`;
      const stock = hot ? 120 : 5_000; // the hot ones run out: INSUFFICIENT_STOCK
      const res = await api.post('/api/products', { sku, name: sku, price: { amount: 1_000 + i * 250, currency: 'EUR' }, stock });
      assert.equal(res.status, 201);
      initialStock.set(sku, stock);
      (hot ? skus.hot : skus.normal).push(sku);
    }
    return { users, skus };
  }

  async function restartKafka(downMs: number): Promise<void> {
    await infra.kafka.stop();
    await pause(downMs); // the broker stays down for a while; orders keep coming into the outboxes
    infra.kafka = await startKafka(infra);
  }

  /** One node of the cluster killed, down for a while, and started again: the other two keep a quorum and the in-sync minimum. */
  async function restartOneBroker(downMs: number): Promise<number> {
    const node = pick(infra.kafka.nodes);
    await node.stop('SIGKILL');
    await pause(downMs);
    await node.start();
    return node.nodeId;
  }

  async function restartPostgres(): Promise<void> {
    await infra.pg.stop();
    await pause(2_000);
    infra.pg = await startPg(infra);
  }

  /** Reads what a topic holds (up to `max` records). */
  async function readTopic(topic: string, max: number): Promise<{ key: string; value: string }[]> {
    const consumer = new Consumer({ groupId: `fault-reader-${randomUUID()}`, clientId: 'fault-reader', bootstrapBrokers: bootstrap(infra.kafka), deserializers: stringDeserializers });
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, maxWaitTime: 200 });
    const found: { key: string; value: string }[] = [];
    try {
      await new Promise<void>((resolve) => {
        let idle = setTimeout(resolve, 1_500);
        stream.on('data', (m) => {
          found.push({ key: m.key, value: m.value });
          clearTimeout(idle);
          idle = setTimeout(resolve, 500);
          if (found.length >= max) resolve();
        });
      });
    } finally {
      await stream.close();
      await consumer.close(true);
    }
    return found;
  }

  /** Old messages of a topic sent again, twice each, in reverse order; commands and events also under new message ids. */
  async function duplicateAndReorder(topic: string): Promise<void> {
    const full = prefixed(PREFIX, topic);
    // Real messages only (the topic also holds the poison of earlier rounds).
    const envelopes = (await readTopic(full, 400)).filter((r) => {
      try {
        decodeMessage(r.value);
        return true;
      } catch {
        return false;
      }
    });
    const records = envelopes.slice(-60).reverse();
    const again = records.flatMap((r) => [r, r, { key: r.key, value: JSON.stringify({ ...JSON.parse(r.value), messageId: randomUUID() }) }]);
    const producer = new Producer({ clientId: 'fault-dup', bootstrapBrokers: bootstrap(infra.kafka), serializers: stringSerializers });
    await producer.send({ messages: again.map((r) => ({ topic: full, key: r.key, value: r.value })) });
    await producer.close();
  }

  /** Four kinds of unreadable message on a topic: not JSON, not an envelope, an unknown type, a bad payload. */
  async function poison(topic: string): Promise<void> {
    const full = prefixed(PREFIX, topic);
    const envelope = { messageId: randomUUID(), version: 1, orderId: randomUUID(), correlationId: randomUUID(), causationId: null, occurredAt: new Date().toISOString() };
    const values = ['{{{ not json', JSON.stringify({ hello: 'world' }), JSON.stringify({ ...envelope, type: 'no.such-type', payload: {} }), JSON.stringify({ ...envelope, type: 'inventory.reserve-stock', payload: { items: 'none' } })];
    const producer = new Producer({ clientId: 'fault-poison', bootstrapBrokers: bootstrap(infra.kafka), serializers: stringSerializers });
    await producer.send({ messages: values.map((value) => ({ topic: full, key: `poison-${randomUUID()}`, value })) });
    await producer.close();
    poisonSent += values.length;
  }

  test('faults while orders flow, then every invariant holds', { timeout: 600_000 }, async () => {
    const { users, skus } = await seed();
    const load = new Load(api, users, skus, () => system.instancesOf('order').map((s) => apiClient(s.url, operatorToken)));
    load.start(20);
    try {
      await injectFaults();
    } finally {
      await load.stop();
    }
    log(`load stopped: ${load.placed.size} orders placed (${load.retries} client retries while the system was down)`);
    await settle();
    await checkAll(load);
  });

  async function injectFaults(): Promise<void> {
    await pause(2_000);

    for (let round = 0; round < 2; round++) {
      for (const service of [...SERVICES].sort(() => Math.random() - 0.5)) {
        await pause(300 + Math.random() * 1_200);
        const name = pick(system.instancesOf(service)).name; // with several instances, one of them
        await system.kill(name, 'SIGKILL');
        count(INSTANCES > 1 ? `SIGKILL one instance of ${service}` : `SIGKILL ${service}`);
        await system.restart(name);
      }
      log(`round ${round + 1}: every service SIGKILLed at a random moment and restarted`);
    }

    for (const name of [...PARTICIPANTS, ...PARTICIPANTS]) {
      // Silent for longer than the deadline (stopped, not dead: its connections stay open), then back.
      const child = pick(system.instancesOf(name)).process;
      child.kill('SIGSTOP');
      count(`${name} unresponsive past the deadline`);
      await pause(DEADLINE_MS + 1_000);
      child.kill('SIGCONT');
      await pause(500);
    }
    log('participants silenced past the deadline and resumed');

    if (infra.kafka.nodes.length > 1) {
      for (const downMs of [3_000, 8_000]) {
        const nodeId = await restartOneBroker(downMs);
        count('one Kafka broker SIGKILLed and restarted');
        log(`Kafka node ${nodeId} SIGKILLed, down ${downMs / 1000} s, restarted`);
        await pause(2_000);
      }
    } else {
      // The second outage outlasts the Kafka client's own retries (10 × 0.5 s): consumers must rebuild.
      for (const downMs of [2_000, 8_000]) {
        await restartKafka(downMs);
        count('Kafka broker stopped and restarted');
        await pause(2_000);
      }
      log('Kafka stopped and restarted twice');
    }

    for (let i = 0; i < 2; i++) {
      await restartPostgres();
      count('PostgreSQL stopped and restarted');
      await pause(2_000);
    }
    log('PostgreSQL stopped and restarted twice');

    for (let round = 0; round < 2; round++) {
      for (const topic of TOPICS) {
        await duplicateAndReorder(topic);
        count(`duplicated + reordered messages on ${topic}`);
        await poison(topic);
        count(`poison messages on ${topic}`);
        await pause(500);
      }
    }
    log('duplicates, reordering and poison injected on every topic');
    await pause(2_000);
  }

  /** Lets everything settle: every saga final, every outbox drained, every consumer caught up. */
  async function settle(): Promise<void> {
    await waitUntilSettled({ databaseUrl: infra.pg.url, prefix: PREFIX });
    await waitForConsumersCaughtUp(bootstrap(infra.kafka), PREFIX, {
      order: Topics.sagaReplies,
      inventory: Topics.inventoryCommands,
      user: Topics.userCommands,
      payment: Topics.paymentCommands,
      notification: Topics.orderEvents,
    });
  }

  async function checkAll(load: Load): Promise<void> {
    const report = await checkInvariants({ databaseUrl: infra.pg.url, prefix: PREFIX }, { initialStock, accepted: new Set(load.placed.keys()) });
    const violations = [...report.violations];
    const orders = report.orders;
    // Poison is parked, none lost, none applied.
    const poisonParked = report.parkedWithoutOrder;
    if (poisonParked !== poisonSent) violations.push(`${poisonSent} poison messages sent, ${poisonParked} parked`);
    // Compensations may be retried up to 1,000 times here: none gives up, so no saga may be left
    // needing an operator (COMPENSATION_FAILED, or overdue) once everything has settled.
    const attention = await api.get<{ items: { orderId: string; state: string }[] }>('/api/admin/sagas?limit=100');
    for (const s of attention.body.items) violations.push(`saga ${s.orderId} left in ${s.state} needing an operator`);

    const summary: FaultSummary = faultSummary({
      faults,
      orders: orders.map((o) => o.status),
      failureReasons: orders.flatMap((o) => o.failureReasons),
      cancelRequests: load.cancelRequested.size,
      retryRequests: load.retryRequested.size,
      shape: { instances: INSTANCES, kafkaNodes: infra.kafka.nodes.length },
      clientRetries: load.retries,
      poisonSent,
      poisonParked,
      violations,
      seconds: (Date.now() - started) / 1000,
    });
    console.log(summary.text);
    await mkdir(join(repoRoot, '.cache'), { recursive: true });
    await writeFile(join(repoRoot, '.cache', INSTANCES > 1 || KAFKA_NODES > 1 ? 'fault-suite-cluster-latest.json' : 'fault-suite-latest.json'), `${JSON.stringify(summary.json, null, 2)}\n`);

    assert.equal(load.refused, 0, 'no order was refused');
    assert.ok(load.placed.size > 300, `enough orders flowed (${load.placed.size})`);
    for (const status of FINAL) assert.ok(orders.some((o) => o.status === status), `some orders ended ${status}`);
    assert.deepEqual(violations, [], 'invariant violations');
  }
});
