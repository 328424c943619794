// Apache Kafka itself (the Java broker from Maven Central), run as a single-node KRaft cluster on
// loopback for npm start and the tests, so that nothing but a JDK and Maven has to be installed.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin } from '@platformatic/kafka';
import { assertPortFree } from './ports.ts';
import { exited, hasExited, isRunning, probe, run, terminate } from './process.ts';

const infraDir = fileURLToPath(new URL('../../../../infra/kafka/', import.meta.url));
const pomFile = join(infraDir, 'pom.xml');
const log4jConfig = join(infraDir, 'log4j2.properties');
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const USE_EXISTING = 'or set KAFKA_BROKERS to use an existing Kafka cluster';

function javaBin(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

async function kafkaVersion(): Promise<string> {
  const version = /<kafka\.version>([^<]+)</.exec(await readFile(pomFile, 'utf8'))?.[1];
  if (!version) throw new Error(`${pomFile} does not name a <kafka.version>.`);
  return version;
}

function assertJava17(): void {
  const java = probe(javaBin(), ['-version']);
  // "1.8.0_402" reads as major 1, i.e. too old, which is right.
  const major = Number(/version "(\d+)/.exec(java.output)?.[1] ?? 0);
  if (!java.ok || major < 17) {
    const found = java.ok ? `found Java ${major}` : 'no `java` found';
    throw new Error(`The local Kafka broker needs Java 17 or newer (${found}): install a JDK 17+ (e.g. \`apt-get install openjdk-17-jre-headless\`), ${USE_EXISTING}.`);
  }
}

async function tail(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * The broker's jars, fetched once from Maven Central into `<cacheDir>/kafka-<version>/libs`.
 * Maven fills a private folder that is renamed into place only when complete (with a stamp
 * inside), so a download cut short is simply redone, and two first runs at once do not mix files.
 */
export async function ensureKafkaJars(cacheDir: string, log: (msg: string) => void): Promise<string> {
  assertJava17();
  const version = await kafkaVersion();
  const home = join(resolve(cacheDir), `kafka-${version}`);
  const libs = join(home, 'libs');
  const stamp = join(libs, '.complete');
  if (existsSync(stamp)) return libs;

  if (!probe('mvn', ['-v']).ok) {
    throw new Error(`Fetching Apache Kafka from Maven Central needs Maven once (no \`mvn\` found): install Maven (e.g. \`apt-get install maven\`), ${USE_EXISTING}.`);
  }
  log(`Fetching Apache Kafka ${version} from Maven Central (first run only)…`);
  const started = Date.now();
  await mkdir(home, { recursive: true });
  // Leftovers of downloads cut short (their process is gone).
  for (const name of await readdir(home)) {
    const pid = Number(/^libs\.partial-(\d+)$/.exec(name)?.[1]);
    if (pid && (pid === process.pid || !isRunning(pid))) await rm(join(home, name), { recursive: true, force: true });
  }
  const partial = join(home, `libs.partial-${process.pid}`);
  const mavenLog = join(home, 'maven.log');
  const fd = openSync(mavenLog, 'w');
  let code: number;
  try {
    const args = ['-B', '-q', '-f', pomFile, 'dependency:copy-dependencies', `-DoutputDirectory=${partial}`, '-DincludeScope=runtime'];
    code = await run('mvn', args, fd);
  } finally {
    closeSync(fd);
  }
  if (code !== 0) {
    await rm(partial, { recursive: true, force: true });
    throw new Error(`Maven could not fetch Apache Kafka ${version} (exit ${code}); see ${mavenLog}. Check access to Maven Central, ${USE_EXISTING}.\n${await tail(mavenLog, 10)}`);
  }
  await writeFile(join(partial, '.complete'), `${new Date().toISOString()}\n`);
  await rm(libs, { recursive: true, force: true });
  try {
    await rename(partial, libs);
  } catch (error) {
    // Another process finished first: use its copy.
    await rm(partial, { recursive: true, force: true });
    if (!existsSync(stamp)) throw error;
  }
  log(`Fetched Apache Kafka ${version} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return libs;
}

export interface LocalKafkaOptions {
  /** Where the broker's jars are kept between runs (shared by all data folders). */
  cacheDir: string;
  /** The broker's own files: its data (kept across restarts), server.properties and kafka.log. */
  dataDir: string;
  port: number;
  controllerPort: number;
  /** Address to listen on; 127.0.0.1 unless told. */
  host?: string;
  log?: (msg: string) => void;
  /** Java heap; 512 MB unless told. */
  heapMb?: number;
}

export interface LocalKafka {
  /** bootstrap address, `host:port` */
  brokers: string;
  /** The broker's JVM (for the benchmark's CPU and memory figures). */
  pid: number | undefined;
  stop(): Promise<void>;
}

function serverProperties(host: string, port: number, controllerPort: number, logDirs: string): string {
  return `${[
    '# Written by packages/platform/src/local/kafka.ts on every start; edits are lost.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=${host}:${controllerPort}`,
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${host}:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${logDirs}`,
    // One broker: every internal topic has a single replica.
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'min.insync.replicas=1',
    // Fewer internal partitions than the defaults (50) start faster and cost less on a laptop.
    'offsets.topic.num.partitions=6',
    'transaction.state.log.num.partitions=6',
    'num.partitions=6',
    // Topics are created deliberately by the services, never by a typo.
    'auto.create.topics.enable=false',
    // Consumers in tests join at once instead of waiting 3 s for others.
    'group.initial.rebalance.delay.ms=0',
    // The default 128 MB log-cleaner buffer would take a quarter of a small heap.
    'log.cleaner.dedupe.buffer.size=33554432',
    // A laptop-sized broker: the defaults (3 network, 8 I/O threads) only add context switches on
    // a few cores, and measured as more broker CPU per message in the benchmark.
    'num.network.threads=2',
    'num.io.threads=2',
    'background.threads=2',
    '',
  ].join('\n')}`;
}

/** True when the broker answers a metadata request and lists itself (i.e. it is unfenced and serving). */
async function brokerAnswers(brokers: string): Promise<boolean> {
  const admin = new Admin({ clientId: 'oms-local-kafka-probe', bootstrapBrokers: [brokers], retries: 0, timeout: 2_000, connectTimeout: 2_000 });
  try {
    const metadata = await admin.metadata({ topics: [], forceUpdate: true });
    return metadata.brokers.size > 0;
  } catch {
    return false;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** The broker's output from the previous run is kept once, as kafka.previous.log. */
async function rotate(logFile: string): Promise<void> {
  const previous = await stat(logFile).catch(() => undefined);
  if (previous && previous.size > 0) await rename(logFile, logFile.replace(/\.log$/, '.previous.log'));
}

/**
 * Starts a single-node Kafka (broker and KRaft controller in one JVM) and resolves once it serves
 * requests. The data folder is formatted on first use only, so topics, messages and committed
 * offsets survive a restart.
 */
export async function startLocalKafka(o: LocalKafkaOptions): Promise<LocalKafka> {
  const log = o.log ?? (() => undefined);
  const host = o.host ?? '127.0.0.1';
  const heapMb = o.heapMb ?? 512;
  await assertPortFree(o.port, host, 'Kafka broker', 'OMS_KAFKA_PORT');
  await assertPortFree(o.controllerPort, host, 'Kafka controller', 'OMS_KAFKA_CONTROLLER_PORT');
  const libs = await ensureKafkaJars(o.cacheDir, log);

  const dataDir = resolve(o.dataDir);
  const logDirs = join(dataDir, 'logs');
  const props = join(dataDir, 'server.properties');
  const logFile = join(dataDir, 'kafka.log');
  await mkdir(dataDir, { recursive: true });
  await writeFile(props, serverProperties(host, o.port, o.controllerPort, logDirs));
  await rotate(logFile);
  // The JVM writes straight into the file, so its last words survive even if this process dies.
  const out = await open(logFile, 'a');

  const jvm = [
    `-Xmx${heapMb}m`,
    `-Xms${Math.min(heapMb, 256)}m`,
    // As Kafka's own start script does.
    // Kafka's start script picks G1 with a 20 ms pause goal; on a small heap and a few cores its
    // concurrent threads cost more CPU than they save. The parallel collector with two threads
    // (young pauses of a few ms here) leaves more CPU to the rest of the system.
    '-XX:+UseParallelGC',
    '-XX:ParallelGCThreads=2',
    // C1 only: the C2 compiler kept one core ~27 % busy for the first minutes of traffic (perf, in
    // the benchmark), more than the broker's own request threads; C1's code is good enough for a
    // single-node broker and it starts faster.
    '-XX:TieredStopAtLevel=1',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4jConfig}`,
    // log4j's own shutdown hook only adds a warning at exit (the console appender needs no flushing).
    '-Dlog4j2.shutdownHookEnabled=false',
    `-Dkafka.logs.dir=${dataDir}`,
    '-cp',
    `${libs}/*`,
  ];

  try {
    // meta.properties is the last thing the format writes: without it the folder holds nothing worth keeping.
    if (!existsSync(join(logDirs, 'meta.properties'))) {
      log('Formatting the Kafka data folder (first run only)…');
      await rm(logDirs, { recursive: true, force: true });
      // base64url may start with '-', which the storage tool would read as an option.
      let clusterId = randomBytes(16).toString('base64url');
      while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
      const code = await run(javaBin(), [...jvm, 'kafka.tools.StorageTool', 'format', '--standalone', '--cluster-id', clusterId, '--config', props], out.fd);
      if (code !== 0) throw new Error(`Formatting the Kafka data folder failed (exit ${code}); last lines of ${logFile}:\n${await tail(logFile)}`);
    }

    const child = spawn(javaBin(), [...jvm, 'kafka.Kafka', props], { stdio: ['ignore', out.fd, out.fd] });
    const spawnFailure: { error?: Error } = {};
    child.once('error', (error) => (spawnFailure.error = error));
    // If this process ends without stop() (an uncaught error, process.exit), take the broker down
    // with it rather than leave it holding the ports.
    const onExit = (): void => void child.kill('SIGTERM');
    process.once('exit', onExit);
    const stop = async (): Promise<void> => {
      process.removeListener('exit', onExit);
      await terminate(child, STOP_GRACE_MS);
    };

    const brokers = `${host}:${o.port}`;
    const gone = exited(child);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (spawnFailure.error) {
        process.removeListener('exit', onExit);
        throw new Error(`Could not run ${javaBin()} (${spawnFailure.error.message}): install a JDK 17+, ${USE_EXISTING}.`);
      }
      if (hasExited(child)) {
        process.removeListener('exit', onExit);
        throw new Error(`Kafka stopped during start (exit ${child.exitCode ?? child.signalCode}); last lines of ${logFile}:\n${await tail(logFile)}`);
      }
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`Kafka did not answer on ${brokers} within ${START_TIMEOUT_MS / 1000}s; last lines of ${logFile}:\n${await tail(logFile)}`);
      }
      if (await Promise.race([brokerAnswers(brokers), gone.then(() => false)])) break;
      // Only between attempts: a refused connection fails at once.
      await Promise.race([new Promise((r) => setTimeout(r, 200)), gone]);
    }
    return { brokers, pid: child.pid, stop };
  } finally {
    // The child holds its own copy of the descriptor.
    await out.close();
  }
}
