import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
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
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    pool,
    db,
    async close() {
      await db.destroy();
    },
  };
}

/** The same server, another database name. */
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
