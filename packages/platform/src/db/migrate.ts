import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';

const platformMigrations = new URL('../../migrations/', import.meta.url).pathname;

/**
 * Applies the platform's migrations (outbox, inbox) and then the service's, each `NNN_name.sql`
 * file once, in name order, each in its own transaction. An advisory lock serialises instances
 * that start together.
 */
export async function migrate(pool: pg.Pool, serviceMigrationsDir: string): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('select pg_advisory_lock(7421001)');
    await client.query('create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())');
    const done = new Set((await client.query<{ name: string }>('select name from schema_migrations')).rows.map((r) => r.name));
    for (const [scope, dir] of [['platform', platformMigrations], ['service', serviceMigrationsDir]] as const) {
      const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
      for (const file of files) {
        const name = `${scope}/${file}`;
        if (done.has(name)) continue;
        const sql = await readFile(join(dir, file), 'utf8');
        await client.query('begin');
        try {
          await client.query(sql);
          await client.query('insert into schema_migrations (name) values ($1)', [name]);
          await client.query('commit');
          applied.push(name);
        } catch (error) {
          await client.query('rollback');
          throw new Error(`migration ${name} failed: ${(error as Error).message}`, { cause: error });
        }
      }
    }
  } finally {
    await client.query('select pg_advisory_unlock(7421001)').catch(() => undefined);
    client.release();
  }
  return applied;
}
