// `npm run loadtest`: the JMeter load test of infra/jmeter/order-saga.jmx. Each JMeter thread places
// an order and polls it until its saga ends; the HTML report shows the "order to final status" times.
// Runs JMeter through Maven (the jmeter-maven-plugin fetches JMeter from Maven Central on first use),
// so it needs Java and Maven. Starts its own system on fresh infrastructure (as `npm run bench`
// does) unless --base-url points at a running one.
//   npm run loadtest -- --threads 20 --duration 30 [--ramp 5] [--base-url http://localhost:8080]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { findFreePort } from '@oms/devtools/local';
import { harnessAccess, startSystem, type RunningSystem } from '@oms/devtools/system';
import { kafkaNodesFromEnv, startInfra, type Infra } from './infra.ts';

const root = new URL('../', import.meta.url).pathname;
const log = (line: string) => console.log(`• ${line}`);
const fail = (message: string): never => {
  console.error(`✖ ${message}`);
  process.exit(1);
};

const { values: args } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    threads: { type: 'string', default: '20' },
    duration: { type: 'string', default: '30' },
    ramp: { type: 'string', default: '5' },
  },
});

function count(name: string, min: number): number {
  const raw = args[name as 'threads' | 'duration' | 'ramp'];
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) fail(`--${name} must be a whole number of at least ${min}, got ${JSON.stringify(raw)}.`);
  return value;
}
const threads = count('threads', 1);
const durationSeconds = count('duration', 1);
const rampSeconds = count('ramp', 0);

let target: URL | undefined;
if (args['base-url'] !== undefined) {
  try {
    target = new URL(args['base-url']);
  } catch {
    fail(`--base-url must be a URL such as http://localhost:8080, got ${JSON.stringify(args['base-url'])}.`);
  }
  if (target && target.protocol !== 'http:' && target.protocol !== 'https:') fail(`--base-url must be an http(s) URL, got ${target.href}.`);
}

const mvn = process.env.MVN ?? 'mvn';
const mvnCheck = spawnSync(mvn, ['-v'], { encoding: 'utf8' });
if (mvnCheck.error || mvnCheck.status !== 0) {
  const notFound = mvnCheck.error !== undefined && 'code' in mvnCheck.error && mvnCheck.error.code === 'ENOENT';
  fail(
    notFound
      ? `Maven (${mvn}) was not found: the load test runs JMeter through Maven. Install Maven 3.5.2+ and a JDK 17 (e.g. apt-get install maven), or set MVN to the mvn to use.`
      : `\`${mvn} -v\` failed: ${(mvnCheck.error?.message ?? mvnCheck.stderr) || `exit ${mvnCheck.status}`}`,
  );
}

const pom = join(root, 'infra', 'jmeter', 'pom.xml');
const resultsDir = join(root, 'results', 'jmeter');
const reportIndex = join(resultsDir, 'report', 'index.html');
let dataDir: string | undefined;
let infra: Infra | undefined;
let system: RunningSystem | undefined;
let maven: ChildProcess | undefined;
let stopping = false;

async function cleanUp(): Promise<void> {
  await system?.stop().catch(() => undefined);
  await infra?.stop().catch(() => undefined);
  if (dataDir) await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
}

async function interrupted(): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping…');
  maven?.kill('SIGTERM');
  await cleanUp();
  process.exit(130);
}
process.on('SIGINT', () => void interrupted());
process.on('SIGTERM', () => void interrupted());

// Maven prints a few colour resets even in batch mode.
const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** Runs Maven with its output prefixed; resolves with its exit code. */
function runMaven(mvnArgs: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(mvn, mvnArgs, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    maven = child;
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => console.log(`  mvn │ ${line.replace(ansi, '')}`));
    child.once('error', (error) => {
      console.error(`✖ could not run ${mvn}: ${error.message}`);
      resolve(1);
    });
    child.once('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

interface Stats {
  sampleCount: number;
  errorPct: number;
  medianResTime: number;
  pct2ResTime: number;
  pct3ResTime: number;
  throughput: number;
}

const rank = (label: string) => (label === 'order to final status' ? 0 : label === 'Total' ? 2 : 1);

/** One line per sampler from the report's statistics.json (pct2/pct3 are p95/p99 by default). */
async function printSummary(): Promise<void> {
  const file = join(resultsDir, 'report', 'statistics.json');
  if (!existsSync(file)) return;
  const stats = JSON.parse(await readFile(file, 'utf8')) as Record<string, Stats>;
  const fmt = (n: number) => n.toFixed(1).padStart(8);
  console.log(`\n  ${'sampler'.padEnd(22)} ${'samples'.padStart(8)} ${'errors'.padStart(7)} ${'per sec'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`);
  // The end-to-end transaction first, the per-request samplers, then JMeter's Total (requests only).
  const labels = Object.keys(stats).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  for (const label of labels) {
    const s = stats[label]!;
    console.log(
      `  ${label.padEnd(22)} ${String(s.sampleCount).padStart(8)} ${`${s.errorPct.toFixed(1)}%`.padStart(7)} ${fmt(s.throughput)} ${fmt(s.medianResTime)} ${fmt(s.pct2ResTime)} ${fmt(s.pct3ResTime)}`,
    );
  }
}

// The account that seeds the run: the demo operator of `npm start` for --base-url, or the fresh
// system's own.
let operator = { email: process.env.OMS_OPERATOR_EMAIL ?? 'operator@example.com', password: process.env.OMS_OPERATOR_PASSWORD ?? 'operator-password' };
let exitCode = 1;
try {
  if (!target) {
    dataDir = await mkdtemp(join(tmpdir(), 'oms-loadtest-'));
    await chmod(dataDir, 0o755);
    infra = await startInfra({ root, dataDir, progress: log, kafkaNodes: kafkaNodesFromEnv() });
    const access = harnessAccess();
    operator = access.operator;
    system = await startSystem({
      auth: access.auth,
      env: access.env,
      databaseUrl: infra.databaseUrl,
      brokers: infra.brokers,
      prefix: `load${Date.now()}`,
      gatewayPort: await findFreePort(),
      // OMS_INSTANCES=N and OMS_KAFKA_NODES=3 work here as under npm start.
      instances: Number(process.env.OMS_INSTANCES || 1),
      replicationFactor: infra.replicationFactor,
      logDir: join(dataDir, 'logs'),
      logLevel: 'warn',
      progress: log,
    });
    // The gateway listens on 127.0.0.1 only: name that address rather than localhost (may be ::1).
    target = new URL(system.baseUrl.replace('//localhost:', '//127.0.0.1:'));
  }
  if (stopping) throw new Error('interrupted');
  const https = target.protocol === 'https:';
  const port = target.port || (https ? '443' : '80');
  log(`running JMeter through Maven against ${target.origin}: ${threads} threads for ${durationSeconds}s (ramp-up ${rampSeconds}s)`);
  if (!existsSync(join(root, '.cache', 'jmeter'))) log('the first run fetches JMeter from Maven Central; this takes a few minutes');
  exitCode = await runMaven([
    '-B',
    '-Dstyle.color=never',
    '-f',
    pom,
    'verify',
    `-Dhost=${target.hostname}`,
    `-Dport=${port}`,
    `-Dprotocol=${https ? 'https' : 'http'}`,
    `-Dthreads=${threads}`,
    `-DdurationSeconds=${durationSeconds}`,
    `-DrampSeconds=${rampSeconds}`,
    `-DoperatorEmail=${operator.email}`,
    `-DoperatorPassword=${operator.password}`,
  ]);
  await printSummary();
  if (existsSync(reportIndex)) log(`HTML report: ${relative(process.cwd(), reportIndex)}   (samples: ${relative(process.cwd(), join(resultsDir, 'order-saga.csv'))})`);
  else log(`no HTML report was written (expected ${relative(process.cwd(), reportIndex)}); see Maven's output above`);
  if (exitCode !== 0) console.error(`✖ Maven exited with code ${exitCode}${existsSync(reportIndex) ? ' (failed samples? see the report)' : ''}`);
} catch (error) {
  if (!stopping) console.error(`✖ ${(error as Error).message}`);
  exitCode = 1;
} finally {
  if (!stopping) {
    if (system || infra) log('stopping the system');
    await cleanUp();
  }
}
if (!stopping) process.exit(exitCode);
