// Kysely's queries run as named prepared statements (PostgreSQL parses and plans each once per
// connection), up to a cap of distinct texts, after which they run unnamed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { ensureDatabase, preparing, withDatabaseName } from '../src/index.ts';

test('parameterised queries are prepared once per connection and reused, up to the cap', { timeout: 60_000 }, async () => {
  const url = withDatabaseName(process.env.OMS_TEST_DATABASE_URL!, `prepared_${randomBytes(3).toString('hex')}`);
  await ensureDatabase(url);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const db = new Kysely<{ t: { n: number } }>({ dialect: new PostgresDialect({ pool: preparing(pool, 2) }) });
  try {
    await sql`create table t (n int)`.execute(db);
    await db.transaction().execute(async (trx) => {
      for (let n = 0; n < 5; n++) await trx.insertInto('t').values({ n }).execute();
      await trx.selectFrom('t').selectAll().where('n', '>', 1).execute();
      await trx.selectFrom('t').selectAll().where('n', '<', 3).execute(); // a third text: over the cap
      const prepared = await sql<{ statement: string }>`select statement from pg_prepared_statements order by prepare_time`.execute(trx);
      assert.deepEqual(
        prepared.rows.map((r) => r.statement),
        ['insert into "t" ("n") values ($1)', 'select * from "t" where "n" > $1'],
        'the insert ran five times and was prepared once; the query past the cap ran unnamed',
      );
    });
    assert.equal((await db.selectFrom('t').select((eb) => eb.fn.countAll<number>().as('c')).executeTakeFirstOrThrow()).c, 5);
  } finally {
    await db.destroy();
  }
});
