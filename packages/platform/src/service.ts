import type { Kysely } from 'kysely';
import type { Static, TObject, TProperties } from 'typebox';
import { BaseConfig, loadConfig } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { ensureDatabase, openDatabase, type Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { messageApplier, startConsumer, type MessageHandler, type RunningConsumer } from './messaging/consumer.ts';
import { deadLetterRoutes } from './http/dead-letter-routes.ts';
import { outboxRefusedRoutes } from './http/outbox-refused-routes.ts';
import { outboxBacklog, startOutboxRelay, type OutboxRelay } from './messaging/outbox.ts';
import { countParked } from './messaging/dead-letters.ts';
import { observeService } from './metrics.ts';
import { ensureTopics, systemTopics } from './messaging/topics.ts';
import { startInboxPruner } from './messaging/inbox.ts';
import { createHttpServer, type HttpServer } from './http/server.ts';
import { TokenVerifier } from './http/auth.ts';
import { startTelemetry } from './telemetry.ts';

export type BaseConfigValues = Static<TObject<typeof BaseConfig>>;
export type ServiceConfig<P extends TProperties> = BaseConfigValues & Static<TObject<P>>;

export interface ServiceContext<DB, P extends TProperties> {
  readonly config: ServiceConfig<P>;
  readonly database: Database<DB>;
  readonly db: Kysely<DB>;
  readonly logger: Logger;
  /** Verifies access tokens with the configured public keys. */
  readonly verifier: TokenVerifier;
}

export interface ServiceDefinition<DB, P extends TProperties> {
  /** Short name: `order`, `inventory`, … Used for the consumer group, logs and /docs/<name>. */
  name: string;
  config: P;
  migrationsDir: string;
  consumes?: { topics: readonly string[]; handler: (ctx: ServiceContext<DB, P>) => MessageHandler<DB> };
  routes: (app: HttpServer, ctx: ServiceContext<DB, P>) => void | Promise<void>;
  /** After migrations, before serving: e.g. demo data. */
  onStart?: (ctx: ServiceContext<DB, P>) => Promise<void>;
  /** Background work owned by the service (e.g. saga deadlines); stopped on shutdown. */
  background?: (ctx: ServiceContext<DB, P>) => { stop(): Promise<void> };
}

export interface RunningService {
  readonly url: string;
  stop(): Promise<void>;
}

async function untilDatabaseReachable(url: string, logger: Logger): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      await ensureDatabase(url);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL at ${new URL(url).host} is not reachable: ${(error as Error).message}. Check DATABASE_URL.`, { cause: error });
      if (attempt === 1) logger.info('waiting for PostgreSQL');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/**
 * Starts a service: config, database (created and migrated), outbox relay, Kafka consumer and
 * HTTP server; stops them in reverse order on SIGTERM/SIGINT, letting in-flight work finish.
 */
export async function runService<DB, P extends TProperties>(def: ServiceDefinition<DB, P>, env: NodeJS.ProcessEnv = process.env): Promise<RunningService> {
  const config = loadConfig({ ...BaseConfig, ...def.config }, env) as unknown as ServiceConfig<P>;
  const logger = createLogger(def.name, config.LOG_LEVEL);
  const telemetry = await startTelemetry(def.name, env, logger);
  if (telemetry.endpoint) logger.info({ endpoint: telemetry.endpoint }, 'traces are exported over OTLP/HTTP');
  // Before anything else: a bad key set is a configuration error, reported at once.
  const verifier = new TokenVerifier({ publicKeys: config.OMS_AUTH_PUBLIC_KEYS, issuer: config.OMS_AUTH_ISSUER, audience: config.OMS_AUTH_AUDIENCE });
  const brokers = config.KAFKA_BROKERS.split(',').map((b) => b.trim());
  await untilDatabaseReachable(config.DATABASE_URL, logger);
  const database = openDatabase<DB>(config.DATABASE_URL, { max: config.DB_POOL_SIZE, logger });
  const applied = await migrate(database.pool, def.migrationsDir);
  if (applied.length > 0) logger.info({ applied }, 'migrations applied');

  const list = (value: string) => value.split(',').map((v) => v.trim()).filter(Boolean);
  const ctx: ServiceContext<DB, P> = {
    config,
    database,
    db: database.db,
    logger,
    verifier,
  };
  await def.onStart?.(ctx);

  if (config.OMS_CREATE_TOPICS) {
    // A broker that is away now (restarting) does not stop the service: the topics of a running
    // system exist already, and the consumer waits for the broker anyway.
    await ensureTopics(brokers, systemTopics(config.OMS_TOPIC_PREFIX, config.OMS_TOPIC_PARTITIONS, config.OMS_KAFKA_REPLICATION_FACTOR)).catch((error: unknown) =>
      logger.warn({ err: error }, 'could not make sure the topics exist (Kafka unreachable?); starting anyway'),
    );
  }
  const relay: OutboxRelay = startOutboxRelay({ pool: database.pool, brokers, clientId: `${def.name}-outbox-${process.pid}`, logger, leaseMs: config.OMS_RELAY_LEASE_MS });
  const pruner = startInboxPruner({ db: database.db, retentionMs: config.INBOX_RETENTION_HOURS * 3_600_000, intervalMs: config.INBOX_PRUNE_INTERVAL_MS, logger });
  let consumer: RunningConsumer | undefined;
  const handler = def.consumes?.handler(ctx);
  if (def.consumes && handler) {
    consumer = await startConsumer({
      db: database.db,
      brokers,
      groupId: def.name,
      topics: def.consumes.topics,
      topicPrefix: config.OMS_TOPIC_PREFIX,
      handler,
      logger,
      groupInstanceId: config.OMS_INSTANCE_ID || undefined,
    });
  }
  const background = def.background?.(ctx);
  const unobserve = observeService({
    outbox: () => outboxBacklog(database.pool),
    parkedDeadLetters: () => countParked(database.db),
    consumerLag: () => consumer?.lag() ?? Promise.resolve([]),
  });

  const app = await createHttpServer({
    service: def.name,
    logger,
    verifier: ctx.verifier,
    corsOrigins: list(config.OMS_CORS_ORIGINS),
    trustedProxies: list(config.OMS_TRUSTED_PROXIES),
    ready: async () => ({
      database: await database.pool.query('select 1').then(() => true, () => false),
      kafka: consumer ? consumer.isConnected() : true,
    }),
  });
  await def.routes(app, ctx);
  if (handler) deadLetterRoutes(app, { service: def.name, db: database.db, apply: messageApplier(handler, config.OMS_TOPIC_PREFIX) });
  outboxRefusedRoutes(app, { service: def.name, db: database.db });
  try {
    await app.listen({ port: config.PORT, host: config.HOST });
  } catch (error) {
    if ((error as { code?: string }).code === 'EADDRINUSE') {
      throw new Error(`Port ${config.PORT} (${def.name} service) is already in use; stop what uses it or choose another port.`, { cause: error });
    }
    throw error;
  }
  const address = app.server.address();
  const url = `http://${config.HOST}:${typeof address === 'object' && address ? address.port : config.PORT}`;
  logger.info({ url }, `${def.name} service ready`);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down');
      try {
        await app.close();
        unobserve();
        await background?.stop();
        await consumer?.stop();
        await relay.stop();
        await pruner.stop();
        await database.close();
      } finally {
        // The last spans go out before the process ends, whatever failed above (within seconds).
        await telemetry.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'flushing traces failed'));
      }
      logger.info('stopped');
    })());
  return { url, stop };
}

/** `main.ts` of every service: run it, stop cleanly on signals, and exit non-zero with one clear line on a startup failure. */
export function main<DB, P extends TProperties>(def: ServiceDefinition<DB, P>): void {
  runService(def).then(
    (service) => {
      const stop = () =>
        service.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            console.error(error);
            process.exit(1);
          },
        );
      for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void stop());
      // Started by a launcher (npm start, tests): never outlive it, even if it was SIGKILLed.
      const parent = Number(process.env.OMS_PARENT_PID);
      if (parent > 0) {
        setInterval(() => {
          try {
            process.kill(parent, 0);
          } catch (error) {
            // EPERM: the launcher lives, as another user (a container sharing the host's process ids).
            if ((error as NodeJS.ErrnoException).code === 'ESRCH') void stop();
          }
        }, 1_000).unref();
      }
    },
    (error: unknown) => {
      console.error(`${def.name} service failed to start: ${(error as Error).message}`);
      if (process.env.LOG_LEVEL === 'debug') console.error(error);
      process.exit(1);
    },
  );
}
