// Kafka and PostgreSQL for `npm start`, `npm test` and `npm run bench`: the real programs, started
// here unless KAFKA_BROKERS / DATABASE_URL point at running ones.
import { join } from 'node:path';
import { startLocalKafka, startLocalPostgres, findFreePort } from '@oms/platform/local';

export interface Infra {
  brokers: string;
  databaseUrl: string;
  /** Processes started here (for the benchmark's CPU and memory figures). */
  pids: { kafka?: number; postgres?: number };
  stop(): Promise<void>;
}

export interface InfraOptions {
  root: string;
  /** Data folder (kept between runs for npm start; fresh for tests). */
  dataDir: string;
  /** Fixed ports for npm start; free ones for tests. */
  ports?: { kafka: number; controller: number; postgres: number };
  progress: (line: string) => void;
}

export async function startInfra(o: InfraOptions): Promise<Infra> {
  const stops: (() => Promise<void>)[] = [];
  const pids: Infra['pids'] = {};
  const ports = o.ports ?? { kafka: await findFreePort(), controller: await findFreePort(), postgres: await findFreePort() };
  try {
    let databaseUrl = process.env.DATABASE_URL;
    const pgStart = databaseUrl
      ? Promise.resolve(o.progress(`using PostgreSQL at ${new URL(databaseUrl).host} (DATABASE_URL)`))
      : (async () => {
          o.progress(`starting PostgreSQL on 127.0.0.1:${ports.postgres}`);
          const pg = await startLocalPostgres({ dataDir: join(o.dataDir, 'postgres'), port: ports.postgres, log: o.progress });
          stops.push(() => pg.stop());
          pids.postgres = pg.pid;
          databaseUrl = pg.url;
        })();
    let brokers = process.env.KAFKA_BROKERS;
    const kafkaStart = brokers
      ? Promise.resolve(o.progress(`using Kafka at ${brokers} (KAFKA_BROKERS)`))
      : (async () => {
          o.progress(`starting Kafka on 127.0.0.1:${ports.kafka}`);
          const kafka = await startLocalKafka({ cacheDir: join(o.root, '.cache'), dataDir: join(o.dataDir, 'kafka'), port: ports.kafka, controllerPort: ports.controller, log: o.progress });
          stops.push(() => kafka.stop());
          pids.kafka = kafka.pid;
          brokers = kafka.brokers;
        })();
    const results = await Promise.allSettled([pgStart, kafkaStart]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return {
      brokers: brokers!,
      databaseUrl: databaseUrl!,
      pids,
      async stop() {
        await Promise.allSettled(stops.map((s) => s()));
      },
    };
  } catch (error) {
    await Promise.allSettled(stops.map((s) => s()));
    throw error;
  }
}
