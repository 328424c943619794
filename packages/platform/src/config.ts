import { readFileSync } from 'node:fs';
import Type, { type Static, type TObject, type TProperties } from 'typebox';
import { Compile } from 'typebox/compile';
import Value from 'typebox/value';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Settings every service reads. Services extend this with their own. */
export const BaseConfig = {
  /** HTTP port of this service. */
  PORT: Type.Integer({ minimum: 0, maximum: 65535 }),
  HOST: Type.String({ default: '127.0.0.1' }),
  /** This service's own database. Created if missing. */
  DATABASE_URL: Type.String({ minLength: 1 }),
  KAFKA_BROKERS: Type.String({ minLength: 1, default: '127.0.0.1:19092' }),
  /** Prepended to every topic and consumer group, so several systems can share one broker. */
  OMS_TOPIC_PREFIX: Type.String({ default: '' }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  DB_POOL_SIZE: Type.Integer({ minimum: 1, default: 10 }),
  /**
   * How long the inbox remembers a message id. At least as long as Kafka keeps messages (its
   * default is 7 days): a message redelivered after its id was forgotten would be applied again.
   */
  INBOX_RETENTION_HOURS: Type.Number({ exclusiveMinimum: 0, default: 168 }),
  /**
   * The public keys access tokens are verified with: a JWKS (`{"keys":[…]}`, Ed25519), several
   * keys during a rotation. Required, with no default: every service verifies tokens itself.
   */
  OMS_AUTH_PUBLIC_KEYS: Type.String({ minLength: 1 }),
  /** The `iss` and `aud` every access token must carry. */
  OMS_AUTH_ISSUER: Type.String({ minLength: 1, default: 'oms' }),
  OMS_AUTH_AUDIENCE: Type.String({ minLength: 1, default: 'oms-api' }),
  /** Comma-separated origins allowed by CORS; empty = CORS off. */
  OMS_CORS_ORIGINS: Type.String({ default: '' }),
  /** Comma-separated proxy addresses (or CIDRs) whose X-Forwarded-For names the client; empty = none. */
  OMS_TRUSTED_PROXIES: Type.String({ default: '' }),
  /** How often each service deletes inbox entries past their retention. */
  INBOX_PRUNE_INTERVAL_MS: Type.Integer({ minimum: 1_000, default: 3_600_000 }),
  /**
   * This instance's name, the same across its restarts and unique among the service's live
   * instances (a StatefulSet pod's name; `npm start` sets `order`, `order-2`, …): its Kafka
   * consumer's static group membership, so a restart after a crash takes its partitions back
   * without a rebalance (a clean stop leaves the group). Empty: dynamic membership.
   */
  OMS_INSTANCE_ID: Type.String({ default: '', pattern: '^\\S*$' }),
  /** The outbox relay's leadership lease: with several instances, a vanished leader is replaced within this plus a fifth. */
  OMS_RELAY_LEASE_MS: Type.Integer({ minimum: 500, default: 5_000 }),
  /**
   * Each service creates the system's topics that do not exist yet when it starts (the broker
   * does not auto-create them): with this many partitions and copies of each. `false` when topics
   * are managed elsewhere (a KafkaTopic resource, say).
   */
  OMS_CREATE_TOPICS: Type.Boolean({ default: true }),
  OMS_TOPIC_PARTITIONS: Type.Integer({ minimum: 1, default: 6 }),
  OMS_KAFKA_REPLICATION_FACTOR: Type.Integer({ minimum: 1, default: 1 }),
};

/**
 * Reads environment variables once, converts them to the schema's types, applies defaults, and
 * fails with every problem at once (not one per restart). Any setting `X` may instead be given as
 * a file named by `X_FILE` (the container convention for secrets: a mounted Secret or a volume).
 */
export function loadConfig<P extends TProperties>(properties: P, env: NodeJS.ProcessEnv = process.env): Static<TObject<P>> {
  const schema = Type.Object(properties);
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(properties)) {
    let value = env[key];
    const file = env[`${key}_FILE`];
    if ((value === undefined || value === '') && file) {
      try {
        value = readFileSync(file, 'utf8').trim();
      } catch (error) {
        throw new ConfigError(`Invalid configuration: ${key}_FILE names ${file}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
    }
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const withDefaults = Value.Default(schema, Value.Convert(schema, raw));
  const validator = Compile(schema);
  if (!validator.Check(withDefaults)) {
    const problems = validator.Errors(withDefaults).map((e) => {
      const missing = (e.params as { requiredProperties?: string[] }).requiredProperties;
      return missing ? `${missing.join(', ')} must be set` : `${e.instancePath.slice(1)} ${e.message}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return withDefaults;
}
