// Kafka and PostgreSQL for `npm start`, `npm test` and `npm run bench`: the real programs, started
// here unless KAFKA_BROKERS / DATABASE_URL point at running ones.
import { join } from 'node:path';
import { startLocalKafka, startLocalPostgres, findFreePort, type LocalKafka } from '@oms/devtools/local';

export interface Infra {
  brokers: string;
  databaseUrl: string;
  /** Processes started here (for the benchmark's CPU and memory figures). */
  pids: { kafka?: number; postgres?: number };
  /** Where the PostgreSQL started here keeps its files (another folder than asked when that one is closed to the postgres user). */
  postgresDataDir?: string;
  /** The Kafka started here, if any (its nodes can be stopped one by one). */
  kafka?: LocalKafka;
  /** Copies of each topic partition: 3 on a local three-node cluster, else OMS_KAFKA_REPLICATION_FACTOR or 1. */
  replicationFactor: number;
  stop(): Promise<void>;
}

export interface InfraOptions {
  root: string;
  /** Data folder (kept between runs for npm start; fresh for tests). */
  dataDir: string;
  /** Fixed ports for npm start; free ones for tests. */
  ports?: { kafka: number; controller: number; postgres: number };
  progress: (line: string) => void;
  /** Nodes of the local Kafka cluster: 1 or 3 (OMS_KAFKA_NODES). */
  kafkaNodes?: number;
}

/** OMS_KAFKA_NODES: 1 (default) or 3. */
export function kafkaNodesFromEnv(): number {
  const raw = process.env.OMS_KAFKA_NODES;
  if (raw === undefined || raw === '') return 1;
  if (raw !== '1' && raw !== '3') throw new Error(`OMS_KAFKA_NODES must be 1 or 3 (a three-node KRaft cluster), got ${JSON.stringify(raw)}.`);
  return Number(raw);
}

export async function startInfra(o: InfraOptions): Promise<Infra> {
  const stops: (() => Promise<void>)[] = [];
  const pids: Infra['pids'] = {};
  const ports = o.ports ?? { kafka: await findFreePort(), controller: await findFreePort(), postgres: await findFreePort() };
  const kafkaNodes = o.kafkaNodes ?? 1;
  // Nodes 2 and 3 of a cluster: the next ports after node 1's pair under npm start, free ones otherwise.
  const moreNodes = await Promise.all(
    Array.from({ length: kafkaNodes - 1 }, async (_, i) =>
      o.ports ? { port: ports.kafka + 2 * (i + 1), controllerPort: ports.controller + 2 * (i + 1) } : { port: await findFreePort(), controllerPort: await findFreePort() },
    ),
  );
  let replicationFactor = Number(process.env.OMS_KAFKA_REPLICATION_FACTOR || 1);
  let localKafka: LocalKafka | undefined;
  let postgresDataDir: string | undefined;
  try {
    let databaseUrl = process.env.DATABASE_URL;
    const pgStart = databaseUrl
      ? Promise.resolve(o.progress(`using PostgreSQL at ${new URL(databaseUrl).host} (DATABASE_URL)`))
      : (async () => {
          o.progress(`starting PostgreSQL on 127.0.0.1:${ports.postgres}`);
          const pg = await startLocalPostgres({ dataDir: join(o.dataDir, 'postgres'), port: ports.postgres, log: o.progress });
          stops.push(() => pg.stop());
          pids.postgres = pg.pid;
          postgresDataDir = pg.dataDir;
          databaseUrl = pg.url;
        })();
    let brokers = process.env.KAFKA_BROKERS;
    const kafkaStart = brokers
      ? Promise.resolve(o.progress(`using Kafka at ${brokers} (KAFKA_BROKERS)`))
      : (async () => {
          o.progress(kafkaNodes === 1 ? `starting Kafka on 127.0.0.1:${ports.kafka}` : `starting a ${kafkaNodes}-node Kafka cluster on 127.0.0.1:${[ports.kafka, ...moreNodes.map((n) => n.port)].join(',')}`);
          // A cluster keeps its own folders: a single node's data cannot join one.
          const dataDir = join(o.dataDir, kafkaNodes === 1 ? 'kafka' : `kafka-${kafkaNodes}-nodes`);
          const kafka = await startLocalKafka({ cacheDir: join(o.root, '.cache'), dataDir, port: ports.kafka, controllerPort: ports.controller, moreNodes, log: o.progress });
          stops.push(() => kafka.stop());
          pids.kafka = kafka.pid;
          brokers = kafka.brokers;
          replicationFactor = kafka.replicationFactor;
          localKafka = kafka;
        })();
    const results = await Promise.allSettled([pgStart, kafkaStart]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return {
      brokers: brokers!,
      databaseUrl: databaseUrl!,
      pids,
      kafka: localKafka,
      postgresDataDir,
      replicationFactor,
      async stop() {
        await Promise.allSettled(stops.map((s) => s()));
      },
    };
  } catch (error) {
    await Promise.allSettled(stops.map((s) => s()));
    throw error;
  }
}
