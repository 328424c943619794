import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Admin } from '@platformatic/kafka';
import { repoRoot } from '../system/catalog.ts';
import { assertPortFree } from './ports.ts';
import { commandExists, run, terminate } from './process.ts';

const pomDir = join(repoRoot, 'infra', 'kafka');

async function kafkaVersion(): Promise<string> {
  const pom = await readFile(join(pomDir, 'pom.xml'), 'utf8');
  return /<kafka\.version>([^<]+)</.exec(pom)?.[1] ?? 'unknown';
}

/**
 * Fetches the broker's jars from Maven Central once (with Maven) into the cache folder. A stamp
 * file marks a finished download, so one cut short is done again.
 */
export async function ensureKafkaJars(cacheDir: string, log: (msg: string) => void): Promise<string> {
  const java = commandExists('java', ['-version']);
  const major = Number(/version "(\d+)/.exec(java.output)?.[1] ?? 0);
  if (!java.ok || major < 17) {
    throw new Error('Java 17 or newer is needed to run the local Kafka broker: install a JDK 17+ (e.g. `apt-get install openjdk-17-jdk-headless`), or set KAFKA_BROKERS to use an existing Kafka.');
  }
  const libs = join(cacheDir, `kafka-${await kafkaVersion()}`, 'libs');
  const stamp = join(libs, '.complete');
  if (existsSync(stamp)) return libs;
  if (!commandExists('mvn', ['-v']).ok) {
    throw new Error('Maven is needed once to fetch Apache Kafka from Maven Central: install Maven (e.g. `apt-get install maven`), or set KAFKA_BROKERS to use an existing Kafka.');
  }
  log(`Fetching Apache Kafka ${await kafkaVersion()} from Maven Central (first run only)…`);
  await rm(libs, { recursive: true, force: true });
  await mkdir(libs, { recursive: true });
  const logFile = join(cacheDir, 'maven-kafka.log');
  const out = createWriteStream(logFile);
  const code = await run('mvn', ['-B', '-q', '-f', join(pomDir, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`, '-DincludeScope=runtime'], { logTo: out });
  out.end();
  if (code !== 0) throw new Error(`Maven could not fetch Apache Kafka (exit ${code}); see ${logFile}. Or set KAFKA_BROKERS to use an existing Kafka.`);
  await writeFile(stamp, new Date().toISOString());
  return libs;
}

export interface LocalKafkaOptions {
  cacheDir: string;
  dataDir: string;
  port: number;
  controllerPort: number;
  heapMb?: number;
  log?: (msg: string) => void;
}

export interface LocalKafka {
  brokers: string;
  stop(): Promise<void>;
}

function serverProperties(o: LocalKafkaOptions, logDirs: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=127.0.0.1:${o.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${o.port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${logDirs}`,
    'num.partitions=6',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=6',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'auto.create.topics.enable=false',
    'group.initial.rebalance.delay.ms=0',
    'log.retention.hours=168',
    '',
  ].join('\n');
}

async function brokerAnswers(brokers: string): Promise<boolean> {
  const admin = new Admin({ clientId: 'oms-probe', bootstrapBrokers: [brokers], retries: 0, timeout: 2_000 });
  try {
    await admin.metadata({ topics: [] });
    return true;
  } catch {
    return false;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/**
 * Runs Apache Kafka itself (the Java program) as a single-node KRaft broker on loopback. The data
 * directory is formatted once and kept, so topics and messages survive a restart.
 */
export async function startLocalKafka(o: LocalKafkaOptions): Promise<LocalKafka> {
  const log = o.log ?? (() => undefined);
  const libs = await ensureKafkaJars(o.cacheDir, log);
  await assertPortFree(o.port, 'Kafka broker', 'OMS_KAFKA_PORT');
  await assertPortFree(o.controllerPort, 'Kafka controller', 'OMS_KAFKA_CONTROLLER_PORT');
  const logDirs = join(o.dataDir, 'logs');
  await mkdir(logDirs, { recursive: true });
  const props = join(o.dataDir, 'server.properties');
  await writeFile(props, serverProperties(o, logDirs));
  const logFile = join(o.dataDir, 'kafka.log');
  const classpath = `${libs}/*`;
  const jvm = [`-Xmx${o.heapMb ?? 512}m`, `-Xms${Math.min(o.heapMb ?? 512, 256)}m`, '-XX:+UseG1GC', `-Dlog4j2.configurationFile=${join(pomDir, 'log4j2.properties')}`, '-cp', classpath];

  if (!existsSync(join(logDirs, 'meta.properties'))) {
    log('Formatting Kafka storage (first run only)…');
    const clusterId = randomBytes(16).toString('base64url');
    const out = createWriteStream(logFile, { flags: 'a' });
    const code = await run('java', [...jvm, 'kafka.tools.StorageTool', 'format', '--standalone', '-t', clusterId, '-c', props], { logTo: out });
    out.end();
    if (code !== 0) throw new Error(`Kafka storage format failed (exit ${code}); see ${logFile}`);
  }

  const out = createWriteStream(logFile, { flags: 'a' });
  const child = spawn('java', [...jvm, 'kafka.Kafka', props], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const brokers = `127.0.0.1:${o.port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
      throw new Error(`Kafka exited during start (code ${child.exitCode ?? child.signalCode}). Last lines of ${logFile}:\n${tail}`);
    }
    if (await brokerAnswers(brokers)) break;
    if (Date.now() > deadline) {
      await terminate(child, 5_000);
      throw new Error(`Kafka did not answer on ${brokers} within 90 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    brokers,
    async stop() {
      await terminate(child, 20_000);
      out.end();
    },
  };
}
