// Apache Kafka itself (the Java broker from Maven Central), run as a KRaft cluster on loopback for
// npm start and the tests (one node, or three with OMS_KAFKA_NODES=3), so that nothing but a JDK
// and Maven has to be installed.
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
  /** Java heap per node; 512 MB unless told. */
  heapMb?: number;
  /**
   * The ports of nodes 2, 3, … of a cluster (each a broker and a KRaft controller in one JVM);
   * none: one node. With three nodes, topics get 3 replicas and `min.insync.replicas=2`.
   */
  moreNodes?: readonly { port: number; controllerPort: number }[];
}

export interface LocalKafkaNode {
  readonly nodeId: number;
  readonly address: string;
  readonly pid: number | undefined;
  /** Stops this node alone (SIGKILL for a crash); the others keep serving if a quorum is left. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on its data and waits until it serves. */
  start(): Promise<void>;
}

export interface LocalKafka {
  /** bootstrap addresses, `host:port,…` */
  brokers: string;
  /** The first node's JVM (for the benchmark's CPU and memory figures). */
  pid: number | undefined;
  /** Every node. */
  nodes: readonly LocalKafkaNode[];
  /** The replication factor topics should be created with: 1 for one node, 3 for three or more. */
  replicationFactor: number;
  stop(): Promise<void>;
}

interface NodeSpec {
  nodeId: number;
  port: number;
  controllerPort: number;
}

function serverProperties(host: string, node: NodeSpec, all: readonly NodeSpec[], logDirs: string): string {
  const replicas = all.length >= 3 ? 3 : 1;
  const minIsr = replicas === 3 ? 2 : 1;
  return `${[
    '# Written by packages/devtools/src/local/kafka.ts on every start; edits are lost.',
    'process.roles=broker,controller',
    `node.id=${node.nodeId}`,
    // One node: a dynamic quorum of itself. Several: a static quorum of all of them.
    all.length === 1
      ? `controller.quorum.bootstrap.servers=${host}:${node.controllerPort}`
      : `controller.quorum.voters=${all.map((n) => `${n.nodeId}@${host}:${n.controllerPort}`).join(',')}`,
    `listeners=PLAINTEXT://${host}:${node.port},CONTROLLER://${host}:${node.controllerPort}`,
    `advertised.listeners=PLAINTEXT://${host}:${node.port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${logDirs}`,
    // Internal topics as replicated as the cluster allows; an acknowledged write (acks=all) is on
    // two nodes at least when there are three.
    `offsets.topic.replication.factor=${replicas}`,
    `transaction.state.log.replication.factor=${replicas}`,
    `transaction.state.log.min.isr=${minIsr}`,
    `share.coordinator.state.topic.replication.factor=${replicas}`,
    `share.coordinator.state.topic.min.isr=${minIsr}`,
    `default.replication.factor=${replicas}`,
    `min.insync.replicas=${minIsr}`,
    // Never elect a replica that missed acknowledged writes.
    'unclean.leader.election.enable=false',
    // A follower that stops fetching leaves the in-sync set after 10 s rather than 30: until then
    // acks=all writes to partitions it follows wait for it. (A dead node is fenced by the
    // controllers anyway once its 9 s broker session lapses.)
    'replica.lag.time.max.ms=10000',
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

/** True when the broker answers a metadata request and lists at least `brokers` brokers (itself among them: it is unfenced and serving). */
async function brokerAnswers(address: string, nodeId: number, brokers = 1): Promise<boolean> {
  const admin = new Admin({ clientId: 'oms-local-kafka-probe', bootstrapBrokers: [address], retries: 0, timeout: 2_000, connectTimeout: 2_000 });
  try {
    const metadata = await admin.metadata({ topics: [], forceUpdate: true });
    return metadata.brokers.size >= brokers && metadata.brokers.has(nodeId);
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
 * Starts Kafka (each node a broker and a KRaft controller in one JVM) and resolves once every node
 * serves requests. One node keeps its files in `dataDir` itself; a cluster keeps node N's in
 * `dataDir/node-N`. Data folders are formatted on first use only, so topics, messages and
 * committed offsets survive a restart.
 */
export async function startLocalKafka(o: LocalKafkaOptions): Promise<LocalKafka> {
  const log = o.log ?? (() => undefined);
  const host = o.host ?? '127.0.0.1';
  const heapMb = o.heapMb ?? 512;
  const specs: NodeSpec[] = [{ nodeId: 1, port: o.port, controllerPort: o.controllerPort }, ...(o.moreNodes ?? []).map((n, i) => ({ nodeId: i + 2, ...n }))];
  const cluster = specs.length > 1;
  for (const n of specs) {
    const which = cluster ? ` (node ${n.nodeId})` : '';
    await assertPortFree(n.port, host, `Kafka broker${which}`, 'OMS_KAFKA_PORT');
    await assertPortFree(n.controllerPort, host, `Kafka controller${which}`, 'OMS_KAFKA_CONTROLLER_PORT');
  }
  const libs = await ensureKafkaJars(o.cacheDir, log);
  const root = resolve(o.dataDir);
  const nodeDir = (nodeId: number) => (cluster ? join(root, `node-${nodeId}`) : root);
  // A node formatted on its own (its folder was lost) must join the cluster the others are in.
  let clusterId: string | undefined;
  for (const n of specs) {
    const meta = await readFile(join(nodeDir(n.nodeId), 'logs', 'meta.properties'), 'utf8').catch(() => '');
    clusterId ??= /^cluster\.id=(.+)$/m.exec(meta)?.[1]?.trim();
  }
  // base64url may start with '-', which the storage tool would read as an option.
  while (!clusterId || clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');

  const jvm = (dataDir: string) => [
    `-Xmx${heapMb}m`,
    `-Xms${Math.min(heapMb, 256)}m`,
    // Kafka's start script picks G1 with a 20 ms pause goal; on a small heap and a few cores its
    // concurrent threads cost more CPU than they save. The parallel collector with two threads
    // (young pauses of a few ms here) leaves more CPU to the rest of the system.
    '-XX:+UseParallelGC',
    '-XX:ParallelGCThreads=2',
    // C1 only: the C2 compiler kept one core ~27 % busy for the first minutes of traffic (perf, in
    // the benchmark), more than the broker's own request threads; C1's code is good enough for a
    // local broker and it starts faster.
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

  /** One node: its files, formatted on first use, and its JVM, started and stopped at will. */
  const prepare = async (spec: NodeSpec) => {
    const dataDir = nodeDir(spec.nodeId);
    const logDirs = join(dataDir, 'logs');
    const props = join(dataDir, 'server.properties');
    const logFile = join(dataDir, 'kafka.log');
    await mkdir(dataDir, { recursive: true });
    await writeFile(props, serverProperties(host, spec, specs, logDirs));
    await rotate(logFile);
    // meta.properties is the last thing the format writes: without it the folder holds nothing worth keeping.
    if (!existsSync(join(logDirs, 'meta.properties'))) {
      if (spec.nodeId === 1) log(`Formatting the Kafka data folder${cluster ? 's' : ''} (first run only)…`);
      await rm(logDirs, { recursive: true, force: true });
      const out = await open(logFile, 'a');
      try {
        const format = cluster ? ['--cluster-id', clusterId] : ['--standalone', '--cluster-id', clusterId];
        const code = await run(javaBin(), [...jvm(dataDir), 'kafka.tools.StorageTool', 'format', ...format, '--config', props], out.fd);
        if (code !== 0) throw new Error(`Formatting the Kafka data folder ${logDirs} failed (exit ${code}); last lines of ${logFile}:\n${await tail(logFile)}`);
      } finally {
        await out.close();
      }
    }
    const address = `${host}:${spec.port}`;
    let child: ReturnType<typeof spawn> | undefined;
    const onExit = (): void => void child?.kill('SIGTERM');

    const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
      process.removeListener('exit', onExit);
      if (!child) return;
      if (signal === 'SIGTERM') await terminate(child, STOP_GRACE_MS);
      else {
        const gone = exited(child);
        child.kill(signal);
        await gone;
      }
    };
    const start = async (): Promise<void> => {
      // The JVM writes straight into the file, so its last words survive even if this process dies.
      const out = await open(logFile, 'a');
      try {
        const started = spawn(javaBin(), [...jvm(dataDir), 'kafka.Kafka', props], { stdio: ['ignore', out.fd, out.fd] });
        child = started;
        const spawnFailure: { error?: Error } = {};
        started.once('error', (error) => (spawnFailure.error = error));
        // If this process ends without stop() (an uncaught error, process.exit), take the broker
        // down with it rather than leave it holding the ports.
        process.once('exit', onExit);
        const gone = exited(started);
        const deadline = Date.now() + START_TIMEOUT_MS;
        for (;;) {
          if (spawnFailure.error) {
            process.removeListener('exit', onExit);
            throw new Error(`Could not run ${javaBin()} (${spawnFailure.error.message}): install a JDK 17+, ${USE_EXISTING}.`);
          }
          if (hasExited(started)) {
            process.removeListener('exit', onExit);
            throw new Error(`Kafka${cluster ? ` node ${spec.nodeId}` : ''} stopped during start (exit ${started.exitCode ?? started.signalCode}); last lines of ${logFile}:\n${await tail(logFile)}`);
          }
          if (Date.now() > deadline) {
            await stop();
            throw new Error(`Kafka did not answer on ${address} within ${START_TIMEOUT_MS / 1000}s; last lines of ${logFile}:\n${await tail(logFile)}`);
          }
          if (await Promise.race([brokerAnswers(address, spec.nodeId), gone.then(() => false)])) break;
          // Only between attempts: a refused connection fails at once.
          await Promise.race([new Promise((r) => setTimeout(r, 200)), gone]);
        }
      } finally {
        // The child holds its own copy of the descriptor.
        await out.close();
      }
    };
    const node: LocalKafkaNode = {
      nodeId: spec.nodeId,
      address,
      get pid() {
        return child?.pid;
      },
      stop,
      start,
    };
    return node;
  };

  const nodes = await Promise.all(specs.map(prepare));
  const stopAll = async () => {
    await Promise.allSettled(nodes.map((n) => n.stop()));
  };
  try {
    // Together: a node of a cluster answers only once a quorum of controllers is up.
    await Promise.all(nodes.map((n) => n.start()));
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    brokers: nodes.map((n) => n.address).join(','),
    get pid() {
      return nodes[0]!.pid;
    },
    nodes,
    replicationFactor: specs.length >= 3 ? 3 : 1,
    stop: stopAll,
  };
}
