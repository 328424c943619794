import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDatabase, migrate, openDatabase, withDatabaseName, type Database } from '../src/index.ts';

/**
 * A fresh database on the test run's PostgreSQL with the platform's tables only (outbox, inbox,
 * dead letters, leases), for one test file; `close` closes its pool.
 */
export async function platformDatabase(name: string, max: number): Promise<Database<unknown>> {
  const url = withDatabaseName(process.env.OMS_TEST_DATABASE_URL!, `${name}_${randomBytes(3).toString('hex')}`);
  await ensureDatabase(url);
  const database = openDatabase(url, { max });
  const noServiceMigrations = await mkdtemp(join(tmpdir(), `oms-${name}-`));
  try {
    await migrate(database.pool, noServiceMigrations);
  } finally {
    await rm(noServiceMigrations, { recursive: true, force: true });
  }
  return database;
}
