import pg from 'pg';
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type { Logger } from '../logger.ts';

// Return int8 and numeric columns as JS numbers: our counts and money (minor units) fit easily.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

export interface Database<DB> {
  readonly pool: pg.Pool;
  readonly db: Kysely<DB>;
  close(): Promise<void>;
}

export function openDatabase<DB>(url: string, opts: { max?: number; logger?: Logger } = {}): Database<DB> {
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection (database restarted) must not crash the process.
  pool.on('error', (error) => opts.logger?.warn({ err: error }, 'idle database connection lost'));
  // So must a checked-out one (a transaction between statements, the outbox leader's session):
  // pg emits 'error' on the client when no query is running, and pg-pool only listens while it
  // is idle. The query in flight, if any, fails on its own and is retried as transient.
  pool.on('connect', (client) => client.on('error', (error) => opts.logger?.warn({ err: error }, 'database connection lost')));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: preparing(pool) }) });
  return {
    pool,
    db,
    async close() {
      await db.destroy();
      // Kysely ends the pool only if it ran a query itself; the pool may have been used directly.
      if (!(pool as { ended?: boolean }).ended) await pool.end();
    },
  };
}

/**
 * Kysely's queries as named prepared statements: PostgreSQL parses and plans a statement once per
 * connection instead of at every execution (parsing and planning were the largest share of its CPU
 * in the benchmark, every statement being small). Names go to the first `maxStatements` distinct
 * texts with parameters; later ones (a list of a new length, say) run unnamed, so the server's
 * memory per connection stays bounded.
 */
export function preparing(pool: pg.Pool, maxStatements = 300): PostgresPool {
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && names.size < maxStatements) {
      name = `k${names.size}`;
      names.set(text, name);
    }
    return name;
  };
  return {
    Client: pg.Client,
    options: pool.options,
    end: () => pool.end(),
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      return {
        processID: (client as { processID?: number }).processID,
        release: (destroy?: boolean) => client.release(destroy),
        // A cursor (a Submittable) goes through as it is.
        query: ((textOrCursor: string | pg.Submittable, parameters?: unknown[]) => {
          if (typeof textOrCursor !== 'string') return client.query(textOrCursor);
          const name = parameters && parameters.length > 0 ? nameOf(textOrCursor) : undefined;
          return name ? client.query({ name, text: textOrCursor, values: parameters }) : client.query(textOrCursor, parameters);
        }) as unknown as PostgresPoolClient['query'],
      };
    },
  };
}

/** The same server, another database name. */
/** The database of one service of a system: `oms_<service>`, or `<prefix>_<service>` under a prefix. */
export function serviceDatabaseName(prefix: string, service: string): string {
  return prefix ? `${prefix.replace(/[^a-z0-9_]/g, '_')}_${service}` : `oms_${service}`;
}

export function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export function databaseNameOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

/** Creates the database named in `url` when it does not exist, connecting to `postgres` to do it. */
export async function ensureDatabase(url: string): Promise<void> {
  const name = databaseNameOf(url);
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${JSON.stringify(name)} must be lower-case letters, digits and _`);
  const admin = new pg.Client({ connectionString: withDatabaseName(url, 'postgres') });
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) {
      try {
        await admin.query(`create database "${name}"`);
      } catch (error) {
        // Another process created it between our check and our create: that is the outcome we wanted.
        if ((error as { code?: string }).code !== '42P04') throw error;
      }
    }
  } finally {
    await admin.end();
  }
}
