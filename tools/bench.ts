// `npm run bench`: the end-to-end saga benchmark. Drives orders through the public API at a fixed
// arrival rate (open loop: requests go out on schedule whether or not earlier ones finished, and
// latency counts from the intended send time), or searches for the highest rate the system
// sustains. Completion is observed from the order status events on Kafka, not by polling.
//   npm run bench -- --rate 200 --duration 20          fixed rate
//   npm run bench -- --search                           raise the rate step by step
//   npm run bench -- --instances 2                      two instances of every service (or OMS_INSTANCES=2)
//   npm run bench -- --kafka-nodes 3                    a three-node Kafka cluster (or OMS_KAFKA_NODES=3)
//   npm run bench -- --base-url http://localhost:8080   against a running system (npm start)
//   npm run bench -- --rate 100 --console               with the console's board open in Chromium: its latency
//   npm run bench -- --rate 100 --traces                every service exports its spans over OTLP (to a receiver here)
// Writes results/bench-latest.json and results/bench-latest.svg (throughput and latency over time).
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { newHistogram, percentiles, type Percentiles } from './lib/percentiles.ts';
import { Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { prefixed, Topics } from '@oms/contracts';
import { batchingBetween, snapshotCounters } from './lib/service-metrics.ts';
import { harnessAccess, login, startSystem, type RunningSystem } from '@oms/devtools/system';
import { kafkaNodesFromEnv, startInfra, type Infra } from './infra.ts';
import { checkInvariants, transactionCounts, waitUntilSettled, type SystemDatabases } from './lib/invariants.ts';
import { ProcessSampler } from './lib/process-stats.ts';
import { renderChart } from './lib/chart.ts';
import { seedWorkload, type Workload } from './lib/workload.ts';
import { startWebhookProbe } from './lib/webhook-probe.ts';
import { startBoardProbe } from './lib/board-probe.ts';
import { startOtlpReceiver } from '@oms/devtools/local';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    duration: { type: 'string', default: '20' },
    search: { type: 'boolean', default: false },
    'search-start': { type: 'string', default: '50' },
    'search-factor': { type: 'string', default: '1.4' },
    'step-duration': { type: 'string', default: '10' },
    warmup: { type: 'string', default: '20' },
    users: { type: 'string', default: '1000' },
    skus: { type: 'string', default: '500' },
    payment: { type: 'string', default: 'on' },
    instances: { type: 'string', default: process.env.OMS_INSTANCES || '1' },
    'kafka-nodes': { type: 'string', default: String(kafkaNodesFromEnv()) },
    'base-url': { type: 'string' },
    prefix: { type: 'string' },
    // With --base-url: the operator that seeds the run (the demo operator of npm start by default).
    'operator-email': { type: 'string', default: 'operator@example.com' },
    'operator-password': { type: 'string', default: 'operator-password' },
    out: { type: 'string', default: 'results/bench-latest' },
    // An operator's webhook endpoint for every status change, received here: reports the delivery
    // latency (status change committed → webhook received).
    webhook: { type: 'boolean', default: false },
    // The operator console's board open in Chromium: reports how long it takes to show a status
    // change (READY_FOR_DELIVERY committed → the board's count includes it). Own system only.
    console: { type: 'boolean', default: false },
    // OpenTelemetry on: every service exports its spans to an OTLP receiver here (counted). Own system only.
    traces: { type: 'boolean', default: false },
  },
});
const root = new URL('../', import.meta.url).pathname;
const log = (line: string) => console.log(`• ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const paymentEnabled = args.payment !== 'off';

interface Phase {
  rate: number;
  durationSeconds: number;
  placed: number;
  completed: number;
  errors: Record<string, number>;
  ordersPerSecond: number;
  ackMs: Percentiles;
  sagaMs: Percentiles;
  sustained: boolean;
}

// ---- the system under test -------------------------------------------------------------------
let infra: Infra | undefined;
let system: RunningSystem | undefined;
let dataDir: string | undefined;
let baseUrl: string;
let brokers: string[];
let databases: SystemDatabases | undefined;
let prefix: string;
let operator = { email: args['operator-email'], password: args['operator-password'] };

for (const own of ['console', 'traces'] as const) if (args[own] && args['base-url']) throw new Error(`--${own} measures the benchmark's own system: leave out --base-url`);
const traceSink = args.traces ? await startOtlpReceiver({ keep: false }) : undefined;
if (args['base-url']) {
  baseUrl = args['base-url'].replace(/\/$/, '');
  prefix = args.prefix ?? process.env.OMS_TOPIC_PREFIX ?? '';
  brokers = (process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.OMS_KAFKA_PORT ?? 19092}`).split(',');
  const databaseUrl = process.env.DATABASE_URL ?? `postgres://postgres:postgres@127.0.0.1:${process.env.OMS_PG_PORT ?? 15432}/postgres`;
  databases = { databaseUrl, prefix };
  log(`targeting ${baseUrl} (Kafka ${brokers.join(',')}, topic prefix '${prefix}')`);
} else {
  dataDir = await mkdtemp(join(tmpdir(), 'oms-bench-'));
  await chmod(dataDir, 0o755); // PostgreSQL runs as the postgres user when we are root
  if (args['kafka-nodes'] !== '1' && args['kafka-nodes'] !== '3') throw new Error(`--kafka-nodes must be 1 or 3, got ${args['kafka-nodes']}`);
  infra = await startInfra({ root, dataDir, progress: log, kafkaNodes: Number(args['kafka-nodes']) });
  prefix = args.prefix ?? `bench${Date.now()}`;
  // OMS_PROFILE_DIR=<dir>: every service writes a V8 CPU profile there when it stops (open in Chrome DevTools).
  const profileDir = process.env.OMS_PROFILE_DIR;
  const access = harnessAccess();
  operator = access.operator;
  system = await startSystem({
    auth: access.auth,
    databaseUrl: infra.databaseUrl,
    brokers: infra.brokers,
    prefix,
    gatewayPort: 0,
    instances: Number(args.instances),
    replicationFactor: infra.replicationFactor,
    logDir: join(dataDir, 'logs'),
    logLevel: 'warn',
    progress: log,
    env: {
      ...access.env,
      OMS_PAYMENT_ENABLED: String(paymentEnabled),
      ...(traceSink ? { OTEL_EXPORTER_OTLP_ENDPOINT: traceSink.url } : {}),
      ...(profileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {}),
    },
  });
  baseUrl = system.baseUrl;
  brokers = infra.brokers.split(',');
  databases = { databaseUrl: infra.databaseUrl, prefix };
}

const processes = new ProcessSampler();
if (system) for (const [name, s] of system.services) if (s.process.pid) processes.track(name, s.process.pid);
if (infra?.kafka && infra.kafka.nodes.length > 1) for (const n of infra.kafka.nodes) processes.track(`kafka-${n.nodeId}`, n.pid!);
else if (infra?.pids.kafka) processes.track('kafka', infra.pids.kafka);
if (infra?.pids.postgres) processes.track('postgres', infra.pids.postgres, { withChildren: true });
processes.track('load generator + gateway', process.pid);

let exitCode = 0;
try {
  const operatorToken = (await login(baseUrl, operator.email, operator.password)).accessToken;
  // ---- webhook deliveries (with --webhook) ----------------------------------------------------------
  const webhookLatency = newHistogram();
  const probe = args.webhook ? await startWebhookProbe(baseUrl, operatorToken, webhookLatency) : undefined;
  if (probe) log(`webhook deliveries received at ${probe.url}`);
  const boardLatency = newHistogram();
  const board = args.console ? await startBoardProbe(baseUrl, operator, boardLatency, log) : undefined;
  if (board) log('the console\'s board is open in Chromium');
  const workload: Workload = await seedWorkload(baseUrl, { users: Number(args.users), skus: Number(args.skus), paymentEnabled, operatorToken, log });

  // ---- completions, from the order status events -----------------------------------------------
  const finals = new Map<string, { status: string; at: number }>();
  const consumer = new Consumer({ groupId: `bench-watch-${Date.now()}`, clientId: 'bench', bootstrapBrokers: brokers, deserializers: stringDeserializers });
  const stream = await consumer.consume({ topics: [prefixed(prefix, Topics.orderEvents)], mode: system ? MessagesStreamModes.EARLIEST : MessagesStreamModes.LATEST });
  const waiters = new Set<() => void>();
  stream.on('data', (m) => {
    const env = JSON.parse(m.value) as { orderId: string; payload: { status: string; at: string } };
    if (env.payload.status === 'CREATED' || finals.has(env.orderId)) return;
    finals.set(env.orderId, { status: env.payload.status, at: performance.now() });
    if (env.payload.status === 'READY_FOR_DELIVERY') board?.ready(Date.parse(env.payload.at));
    for (const w of waiters) w();
  });
  const untilCompleted = async (ids: Iterable<string>, deadline: number) => {
    const pending = new Set([...ids].filter((id) => !finals.has(id)));
    while (pending.size > 0 && performance.now() < deadline) {
      await new Promise<void>((r) => {
        waiters.add(r);
        setTimeout(r, 200);
      }).finally(() => waiters.clear());
      for (const id of pending) if (finals.has(id)) pending.delete(id);
    }
    return pending.size;
  };

  // ---- one open-loop phase ---------------------------------------------------------------------
  const intendedAt = new Map<string, number>();
  const accepted = new Set<string>();
  const timeline: { second: number; arrivals: number; completions: number; sagaP50: number; sagaP99: number }[] = [];
  const sentAt = new Map<string, number>(); // warm-up orders
  let runStart = performance.now();
  const allAck = newHistogram();
  const allSaga = newHistogram();

  async function phase(rate: number, durationSeconds: number, drainSeconds: number, measured = true): Promise<Phase> {
    const total = Math.round(rate * durationSeconds);
    const ack = newHistogram();
    const errors: Record<string, number> = {};
    const ids: string[] = [];
    const t0 = performance.now();
    const inflight = new Set<Promise<void>>();
    let next = 0;
    while (next < total) {
      const now = performance.now();
      // Send everything that is due (the schedule does not wait for answers).
      while (next < total && t0 + (next * 1000) / rate <= now) {
        const intended = t0 + (next * 1000) / rate;
        const { token, items } = workload.nextOrder();
        next++;
        // Each order as its customer: the service verifies the token on every measured request.
        const p = fetch(`${baseUrl}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ items }) })
          .then(async (res) => {
            const answer = (await res.json()) as { id?: string; code?: string };
            const latencyUs = Math.max(1, Math.round((performance.now() - intended) * 1000));
            if (res.status === 202 && answer.id) {
              ack.recordValue(latencyUs);
              accepted.add(answer.id);
              ids.push(answer.id);
              if (measured) {
                allAck.recordValue(latencyUs);
                intendedAt.set(answer.id, intended);
              } else sentAt.set(answer.id, intended);
            } else errors[answer.code ?? String(res.status)] = (errors[answer.code ?? String(res.status)] ?? 0) + 1;
          })
          .catch((error: unknown) => {
            const code = (error as { cause?: { code?: string } }).cause?.code ?? 'NETWORK';
            errors[code] = (errors[code] ?? 0) + 1;
          })
          .finally(() => inflight.delete(p));
        inflight.add(p);
      }
      await sleep(Math.max(0, Math.min(5, t0 + (next * 1000) / rate - performance.now())));
    }
    await Promise.all(inflight);
    const sendEnd = t0 + durationSeconds * 1000;
    const left = await untilCompleted(ids, Math.max(performance.now(), sendEnd) + drainSeconds * 1000);
    const saga = newHistogram();
    let lastCompletion = t0;
    for (const id of ids) {
      const f = finals.get(id);
      if (!f) continue;
      const us = Math.max(1, Math.round((f.at - (intendedAt.get(id) ?? sentAt.get(id)!)) * 1000));
      saga.recordValue(us);
      if (measured) allSaga.recordValue(us);
      lastCompletion = Math.max(lastCompletion, f.at);
    }
    const completed = ids.length - left;
    const result: Phase = {
      rate,
      durationSeconds,
      placed: ids.length,
      completed,
      errors,
      ordersPerSecond: +(completed / ((lastCompletion - t0) / 1000)).toFixed(1),
      ackMs: percentiles(ack),
      sagaMs: percentiles(saga),
      sustained: false,
    };
    // Sustained: no errors, every order final within 2 s of the last arrival, and saga p99 under 1 s.
    const keptUp = (lastCompletion - sendEnd) / 1000 <= 2;
    result.sustained = Object.keys(errors).length === 0 && left === 0 && keptUp && result.sagaMs.p99 < 1_000;
    log(
      `${measured ? '' : 'warm-up: '}${rate} orders/s for ${durationSeconds}s: ${completed}/${ids.length} final, ${result.ordersPerSecond} orders/s completed; ack p50 ${result.ackMs.p50} / p99 ${result.ackMs.p99} ms; saga p50 ${result.sagaMs.p50} / p99 ${result.sagaMs.p99} / max ${result.sagaMs.max} ms${Object.keys(errors).length ? `; errors ${JSON.stringify(errors)}` : ''} → ${result.sustained ? 'sustained' : 'NOT sustained'}`,
    );
    return result;
  }

  await sleep(500); // let the watcher join its group before the first order
  // Warm-up, not measured: the JVM's and V8's compilers are busy during the first seconds of
  // traffic, and a cold broker costs twice the CPU per message.
  const warmup = Number(args.warmup);
  if (warmup > 0) {
    const warmRate = Math.min(50, args.search ? Number(args['search-start']) : Number(args.rate));
    log(`warming up: ${warmRate} orders/s for ${warmup} s (not measured)`);
    await phase(warmRate, warmup, 30, false);
  }
  runStart = performance.now();
  probe?.start();
  board?.start();
  processes.start();
  // The load generator (with the gateway and the completion watcher) shares the cores it loads: a
  // stall of its own event loop delays sends and completion timestamps alike, so it is reported.
  const loopSampleMs = 10;
  const loopDelay = monitorEventLoopDelay({ resolution: loopSampleMs });
  loopDelay.enable();
  const cpuStart = processes.snapshot();
  const commitsAtStart = databases ? await transactionCounts(databases) : undefined;
  const serviceUrls = system ? [...system.services.values()].map((s) => ({ service: s.spec.name, url: s.url })) : [];
  const countersAtStart = await snapshotCounters(serviceUrls);
  const phases: Phase[] = [];
  if (args.search) {
    let rate = Number(args['search-start']);
    log(`searching for the highest sustained rate (steps of ${args['step-duration']} s, ×${args['search-factor']})`);
    for (;;) {
      const p = await phase(rate, Number(args['step-duration']), 10);
      phases.push(p);
      if (!p.sustained) break;
      rate = Math.round(rate * Number(args['search-factor']));
    }
  } else {
    log(`${args.rate} orders/s for ${args.duration} s (open loop)`);
    phases.push(await phase(Number(args.rate), Number(args.duration), 60));
  }
  const cpu = processes.cpuSecondsSince(cpuStart);
  loopDelay.disable();
  // The histogram holds the sampling interval plus the delay: keep the delay.
  const ms = (ns: number) => +Math.max(0, ns / 1e6 - loopSampleMs).toFixed(1);
  const loadGeneratorLoopDelayMs = { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) };
  log(`load generator event-loop delay: p50 ${loadGeneratorLoopDelayMs.p50} / p99 ${loadGeneratorLoopDelayMs.p99} / max ${loadGeneratorLoopDelayMs.max} ms`);
  const wallSeconds = (performance.now() - runStart) / 1000;
  // PostgreSQL transactions per order placed, per service database (read-only ones included).
  // Backends flush these counters about once a second, hence the wait.
  let transactionsPerOrder: Record<string, number> | undefined;
  if (databases && commitsAtStart) {
    await sleep(1_500);
    const now = await transactionCounts(databases);
    transactionsPerOrder = Object.fromEntries(Object.entries(now).map(([s, n]) => [s, +((n - (commitsAtStart[s] ?? 0)) / Math.max(1, intendedAt.size)).toFixed(2)]));
    log(`PostgreSQL transactions per order: ${JSON.stringify(transactionsPerOrder)}`);
  }
  let webhooks: { deliveries: number; events: number; latencyMs: Percentiles } | undefined;
  if (probe) {
    webhooks = { ...(await probe.finish()), latencyMs: percentiles(webhookLatency) };
    log(`webhooks: ${webhooks.deliveries} deliveries of ${webhooks.events} events; status change → received p50 ${webhooks.latencyMs.p50} / p99 ${webhooks.latencyMs.p99} / max ${webhooks.latencyMs.max} ms`);
  }
  let consoleBoard: { reflected: number; missed: number; latencyMs: Percentiles } | undefined;
  if (board) {
    consoleBoard = { ...(await board.finish()), latencyMs: percentiles(boardLatency) };
    log(`console board: ${consoleBoard.reflected} ready orders shown (${consoleBoard.missed} not within 15 s); status change → on the board p50 ${consoleBoard.latencyMs.p50} / p99 ${consoleBoard.latencyMs.p99} / max ${consoleBoard.latencyMs.max} ms`);
  }
  // Kafka records per produce request (outbox relays) and messages per consumer batch.
  const kafkaBatching = batchingBetween(countersAtStart, await snapshotCounters(serviceUrls));
  if (system) log(`Kafka batching: ${JSON.stringify(kafkaBatching)}`);
  processes.stop();

  // Per-second timeline for the chart.
  const bySecond = (t: number) => Math.floor((t - runStart) / 1000);
  const buckets = new Map<number, { arrivals: number; completions: number; latencies: number[] }>();
  const bucket = (s: number) => buckets.get(s) ?? buckets.set(s, { arrivals: 0, completions: 0, latencies: [] }).get(s)!;
  for (const [id, t] of intendedAt) {
    bucket(bySecond(t)).arrivals++;
    const f = finals.get(id);
    if (f) {
      const b = bucket(bySecond(f.at));
      b.completions++;
      b.latencies.push(f.at - t);
    }
  }
  for (const s of [...buckets.keys()].sort((a, b) => a - b)) {
    const b = buckets.get(s)!;
    const sorted = b.latencies.sort((x, y) => x - y);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
    timeline.push({ second: s, arrivals: b.arrivals, completions: b.completions, sagaP50: Math.round(at(0.5)), sagaP99: Math.round(at(0.99)) });
  }

  await stream.close();
  await consumer.close(true);

  // ---- invariants --------------------------------------------------------------------------------
  let invariants: { checked: boolean; passed: boolean; violations: string[] } = { checked: false, passed: true, violations: [] };
  if (databases) {
    log('checking the invariants');
    await waitUntilSettled(databases, 120_000);
    const report = await checkInvariants(databases, { initialStock: workload.initialStock, accepted: system ? accepted : undefined, paymentEnabled });
    invariants = { checked: true, passed: report.violations.length === 0, violations: report.violations.slice(0, 20) };
    log(`invariants: ${invariants.passed ? 'all hold' : `${report.violations.length} violated`}`);
  }

  const mix: Record<string, number> = {};
  for (const id of intendedAt.keys()) {
    const s = finals.get(id)?.status ?? 'NOT_FINAL';
    mix[s] = (mix[s] ?? 0) + 1;
  }
  const best = phases.filter((p) => p.sustained).at(-1);
  const result = {
    mode: args.search ? 'search' : 'fixed-rate',
    payment: paymentEnabled,
    instances: system ? Number(args.instances) : null,
    kafkaNodes: infra?.kafka ? infra.kafka.nodes.length : null,
    sustainedOrdersPerSecond: best?.rate ?? null,
    phases,
    overall: { placed: intendedAt.size, ackMs: percentiles(allAck), sagaMs: percentiles(allSaga), finalStates: mix, wallSeconds: +wallSeconds.toFixed(1) },
    cpuSeconds: cpu,
    transactionsPerOrder,
    kafkaBatching,
    webhooks,
    consoleBoard,
    traces: traceSink ? { spansReceived: traceSink.count(), exportRequests: traceSink.requests() } : undefined,
    loadGeneratorLoopDelayMs,
    peakRssMiB: processes.peakRssMiB(),
    invariants,
    workload: workload.describe(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    timeline,
    at: new Date().toISOString(),
  };
  const out = resolve(root, args.out);
  await mkdir(join(out, '..'), { recursive: true });
  await writeFile(`${out}.json`, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(`${out}.svg`, renderChart(result));
  console.log(JSON.stringify({ ...result, timeline: `${timeline.length} seconds (see ${args.out}.json)` }, null, 2));
  log(`wrote ${args.out}.json and ${args.out}.svg`);
  const anyErrors = phases.some((p) => Object.keys(p.errors).length > 0) && !args.search;
  if (!invariants.passed || anyErrors) exitCode = 1;
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  processes.stop();
  await system?.stop();
  await infra?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
