// `npm run bench`: places a burst of orders through the public API and measures how fast they
// reach a final state, observed from the order status events on Kafka (not by polling).
// Starts its own system on fresh infrastructure (as `npm test` does).
//   npm run bench -- --orders 1000 --concurrency 100
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { prefixed, Topics } from '@oms/contracts';
import { apiClient, startSystem } from '@oms/platform/testing';
import { startInfra } from './infra.ts';

const { values: args } = parseArgs({
  options: { orders: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '100' }, users: { type: 'string', default: '50' } },
});
const total = Number(args.orders);
const concurrency = Number(args.concurrency);
const root = new URL('../', import.meta.url).pathname;
const log = (line: string) => console.log(`• ${line}`);

const dataDir = await mkdtemp(join(tmpdir(), 'oms-bench-'));
await chmod(dataDir, 0o755);
const infra = await startInfra({ root, dataDir, progress: log });
const prefix = `bench${Date.now()}`;
// OMS_PROFILE_DIR=<dir>: every service writes a V8 CPU profile there when it stops (open in Chrome DevTools).
const profileDir = process.env.OMS_PROFILE_DIR;
const system = await startSystem({
  databaseUrl: infra.databaseUrl,
  brokers: infra.brokers,
  prefix,
  gatewayPort: 0,
  logDir: join(dataDir, 'logs'),
  logLevel: 'warn',
  progress: log,
  env: profileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : undefined,
});
const api = apiClient(system.baseUrl);

try {
  log(`seeding ${args.users} users and 20 products`);
  const users: string[] = [];
  for (let i = 0; i < Number(args.users); i++) {
    const res = await api.post('/api/users', { name: `Bench ${i}`, email: `bench-${prefix}-${i}@example.com` });
    users.push((res.body as { id: string }).id);
  }
  const skus: string[] = [];
  for (let i = 0; i < 20; i++) {
    const sku = `BENCH-${i}`;
    await api.post('/api/products', { sku, name: `Bench product ${i}`, price: { amount: 100 + i, currency: 'EUR' }, stock: 1_000_000 });
    skus.push(sku);
  }

  // Watch final statuses on the order events topic.
  const brokers = infra.brokers.split(',');
  const consumer = new Consumer({ groupId: `${prefix}-watch`, clientId: 'bench', bootstrapBrokers: brokers, deserializers: stringDeserializers });
  const stream = await consumer.consume({ topics: [prefixed(prefix, Topics.orderEvents)], mode: MessagesStreamModes.EARLIEST });
  const sentAt = new Map<string, number>();
  const finals = new Map<string, { status: string; at: number }>();
  let allDone: () => void;
  const done = new Promise<void>((r) => (allDone = r));
  stream.on('data', (m) => {
    const env = JSON.parse(m.value) as { orderId: string; payload: { status: string } };
    if (env.payload.status === 'CREATED' || finals.has(env.orderId)) return;
    finals.set(env.orderId, { status: env.payload.status, at: performance.now() });
    if (finals.size === total) allDone();
  });

  log(`placing ${total} orders, ${concurrency} in flight`);
  const start = performance.now();
  let next = 0;
  let errors = 0;
  const ackLatencies: number[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        const res = await api.post('/api/orders', { userId: users[i % users.length], items: [{ sku: skus[i % skus.length], quantity: 1 + (i % 3) }] });
        ackLatencies.push(performance.now() - t0);
        if (res.status !== 202) errors++;
        else sentAt.set((res.body as { id: string }).id, t0);
      }
    }),
  );
  const placedIn = performance.now() - start;
  const timeout = setTimeout(() => allDone(), 120_000);
  await done;
  clearTimeout(timeout);
  const elapsed = (Math.max(...[...finals.values()].map((f) => f.at)) - start) / 1000;
  await stream.close();
  await consumer.close(true);

  const pct = (xs: number[], p: number) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
  const sagaLatencies = [...finals].filter(([id]) => sentAt.has(id)).map(([id, f]) => f.at - sentAt.get(id)!);
  const mix: Record<string, number> = {};
  for (const f of finals.values()) mix[f.status] = (mix[f.status] ?? 0) + 1;
  const result = {
    orders: total,
    errors,
    finalised: finals.size,
    placedInSeconds: +(placedIn / 1000).toFixed(2),
    finalisedInSeconds: +elapsed.toFixed(2),
    ordersPerSecond: +(finals.size / elapsed).toFixed(1),
    ackMs: { p50: +pct(ackLatencies, 50).toFixed(1), p99: +pct(ackLatencies, 99).toFixed(1) },
    sagaMs: { p50: +pct(sagaLatencies, 50).toFixed(1), p99: +pct(sagaLatencies, 99).toFixed(1), max: +Math.max(...sagaLatencies).toFixed(1) },
    finalStates: mix,
    concurrency,
    machine: `${(await import('node:os')).cpus().length} cores`,
    at: new Date().toISOString(),
  };
  console.log(JSON.stringify(result, null, 2));
  await mkdir(join(root, 'results'), { recursive: true });
  await writeFile(join(root, 'results', 'burst-latest.json'), JSON.stringify(result, null, 2) + '\n');
  if (finals.size !== total || errors > 0) process.exitCode = 1;
} finally {
  await system.stop();
  await infra.stop();
  await rm(dataDir, { recursive: true, force: true });
}
