// `npm start`: the whole system on this machine: PostgreSQL and Kafka (unless DATABASE_URL /
// KAFKA_BROKERS are set), every service as its own process, and the gateway on OMS_PORT.
// Data lives in .data/ and survives restarts. Ctrl-C stops everything.
import { join } from 'node:path';
import { serviceCatalog, startSystem } from '@oms/devtools/system';
import { assertPortFree, localAuthKeys, startMailCatcher, type MailCatcher } from '@oms/devtools/local';
import { kafkaNodesFromEnv, startInfra, type Infra } from './infra.ts';

const root = new URL('../', import.meta.url).pathname;
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const progress = (line: string) => console.log(`  … ${line} (${elapsed()})`);

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`✖ ${name} must be a port number (1-65535), got ${JSON.stringify(raw)}.`);
    process.exit(1);
  }
  return port;
}

function countFromEnv(name: string, fallback: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    console.error(`✖ ${name} must be a whole number from 1 to ${max}, got ${JSON.stringify(raw)}.`);
    process.exit(1);
  }
  return n;
}

const gatewayPort = portFromEnv('OMS_PORT', 8080);
const instances = countFromEnv('OMS_INSTANCES', 1, 16);
const servicePorts = Object.fromEntries(serviceCatalog.map((s) => [s.name, portFromEnv(s.portVar, s.defaultPort)]));
const dataDir = process.env.OMS_DATA_DIR ?? join(root, '.data');
const logDir = join(dataDir, 'logs');

console.log('Starting the Order Management System');
let infra: Infra | undefined;
let shuttingDown = false;
let stopSystem: (() => Promise<void>) | undefined;

async function shutdown(code: number): Promise<never> {
  if (shuttingDown) return new Promise<never>(() => undefined);
  shuttingDown = true;
  console.log('\nStopping…');
  await stopSystem?.().catch(() => undefined);
  await infra?.stop().catch(() => undefined);
  console.log('Stopped.');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  infra = await startInfra({
    root,
    dataDir,
    ports: { kafka: portFromEnv('OMS_KAFKA_PORT', 19092), controller: portFromEnv('OMS_KAFKA_CONTROLLER_PORT', 19093), postgres: portFromEnv('OMS_PG_PORT', 15432) },
    kafkaNodes: kafkaNodesFromEnv(),
    progress,
  });
  const auth = localAuthKeys(dataDir);
  // Order e-mails go to a local mail catcher (shown at /dev/mail), unless SMTP_URL names a real server.
  let mailCatcher: MailCatcher | undefined;
  if (!process.env.SMTP_URL) {
    const smtpPort = portFromEnv('OMS_SMTP_PORT', 2525);
    await assertPortFree(smtpPort, '127.0.0.1', 'the local mail catcher', 'OMS_SMTP_PORT');
    mailCatcher = await startMailCatcher({ port: smtpPort });
  }
  const demoData = process.env.OMS_DEMO_DATA !== 'false';
  const system = await startSystem({
    auth,
    databaseUrl: infra.databaseUrl,
    brokers: infra.brokers,
    prefix: process.env.OMS_TOPIC_PREFIX ?? '',
    gatewayPort,
    servicePorts,
    instances,
    replicationFactor: infra.replicationFactor,
    logDir,
    demoData,
    logLevel: process.env.LOG_LEVEL ?? 'info',
    progress,
    ...(mailCatcher ? { mailCatcher } : {}),
  });
  stopSystem = async () => {
    await system.stop();
    await mailCatcher?.close();
  };
  for (const s of system.services.values()) s.process.once('exit', (code, signal) => {
    if (!shuttingDown) console.error(`✖ ${s.name} (the ${s.spec.name} service) stopped unexpectedly (${signal ?? `exit ${code}`}); see ${join(logDir, `${s.name}.log`)}`);
  });
  console.log(`\nReady in ${elapsed()}${instances > 1 ? `, ${instances} instances of every service` : ''}:`);
  for (const s of [...system.services.values()].sort((a, b) => a.spec.defaultPort - b.spec.defaultPort || a.instance - b.instance)) {
    console.log(`  ${s.name.padEnd(13)} ${s.url}   (${s.spec.prefixes[0]}, log: ${join(logDir, `${s.name}.log`)})`);
  }
  console.log(`  ${'kafka'.padEnd(13)} ${infra.brokers}`);
  console.log(`  ${'postgresql'.padEnd(13)} ${infra.databaseUrl.replace(/:[^:@/]+@/, ':***@')}${infra.postgresDataDir ? `   (data: ${infra.postgresDataDir})` : ''}`);
  console.log(`\n  API base URL: ${system.baseUrl}   (docs: ${system.baseUrl}/docs)`);
  console.log(`  console:      ${system.baseUrl}/   (operators sign in)`);
  console.log(`  token keys:   ${auth.file ?? 'OMS_AUTH_SIGNING_KEY / OMS_AUTH_PUBLIC_KEYS'}`);
  console.log(`  e-mail:       ${mailCatcher ? `caught locally (${mailCatcher.url}); read them at ${system.baseUrl}/dev/mail` : `sent through ${process.env.SMTP_URL!.replace(/:[^:@/]+@/, ':***@')}`}`);
  if (demoData) {
    console.log('  demo logins:  operator@example.com / operator-password (operator)');
    console.log('                ada@example.com, grace@example.com / demo-password (customers)');
    console.log(`                curl -X POST ${system.baseUrl}/api/auth/login -H 'content-type: application/json' -d '{"email":"ada@example.com","password":"demo-password"}'`);
  }
  console.log('  Press Ctrl-C to stop.');
} catch (error) {
  console.error(`\n✖ ${(error as Error).message}`);
  await shutdown(1);
}
