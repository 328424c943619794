// `npm run create-operator -- --email ops@example.com --name "Olga Ops"`: makes an operator account
// outside demo mode. The password comes from OMS_OPERATOR_PASSWORD or is asked for on the terminal
// (not echoed). Writes into the user service's database: the one DATABASE_URL's server holds for
// this system (OMS_TOPIC_PREFIX picks the system), or npm start's embedded PostgreSQL, which is
// started for the moment if it is not running.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ensureDatabase, migrate, openDatabase, serviceDatabaseName, withDatabaseName } from '@oms/platform';
import { startLocalPostgres } from '@oms/devtools/local';
import type { UserDb } from '../services/user/src/db/schema.ts';
import { findUserByEmail, insertUser } from '../services/user/src/db/users.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from '../services/user/src/domain/passwords.ts';

const root = new URL('../', import.meta.url).pathname;
const fail = (message: string): never => {
  console.error(`✖ ${message}`);
  process.exit(1);
};

const { values: args } = parseArgs({ options: { email: { type: 'string' }, name: { type: 'string', default: 'Operator' } } });
const email = args.email ?? fail('usage: npm run create-operator -- --email <address> [--name <name>]  (password: OMS_OPERATOR_PASSWORD or the terminal)');
if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) fail(`${email} is not an e-mail address`);

/** Reads a line from the terminal without echoing it. */
function askHidden(question: string): Promise<string> {
  if (!process.stdin.isTTY) fail('no terminal to ask for the password on: set OMS_OPERATOR_PASSWORD');
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput.bind(rl);
    let asked = false;
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (!asked) {
        asked = true;
        write(s);
      }
    };
    rl.question(question, (answer) => {
      rl.close();
      process.stdout.write('\n');
      resolve(answer);
    });
  });
}

const password = process.env.OMS_OPERATOR_PASSWORD || (await askHidden(`password for ${email}: `));
if (password.length < MIN_PASSWORD_LENGTH) fail(`the password must be at least ${MIN_PASSWORD_LENGTH} characters`);

let stopPostgres: (() => Promise<void>) | undefined;
let serverUrl = process.env.DATABASE_URL;
if (!serverUrl) {
  const port = Number(process.env.OMS_PG_PORT ?? 15432);
  const running = await fetchable(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`);
  if (running) serverUrl = running;
  else {
    console.log(`• starting the embedded PostgreSQL of npm start (port ${port}) for a moment`);
    const pg = await startLocalPostgres({ dataDir: join(process.env.OMS_DATA_DIR ?? join(root, '.data'), 'postgres'), port, log: (line) => console.log(`  … ${line}`) });
    stopPostgres = () => pg.stop();
    serverUrl = pg.url;
  }
}

async function fetchable(url: string): Promise<string | undefined> {
  const probe = openDatabase(url, { max: 1 });
  try {
    await probe.pool.query('select 1');
    return url;
  } catch {
    return undefined;
  } finally {
    await probe.close();
  }
}

const url = withDatabaseName(serverUrl, serviceDatabaseName(process.env.OMS_TOPIC_PREFIX ?? '', 'user'));
let code = 0;
try {
  await ensureDatabase(url);
  const database = openDatabase<UserDb>(url, { max: 2 });
  try {
    await migrate(database.pool, join(root, 'services/user/migrations'));
    if (await findUserByEmail(database.db, email)) throw new Error(`an account with the e-mail address ${email} exists already`);
    const scrypt = { N: Number(process.env.OMS_PASSWORD_SCRYPT_N ?? 16_384), r: 8, p: Number(process.env.OMS_PASSWORD_SCRYPT_P ?? 5) };
    const row = await insertUser(database.db, { id: randomUUID(), name: args.name, email, active: true, role: 'operator', passwordHash: await hashPassword(password, scrypt) });
    console.log(`✔ operator ${row.email} created (id ${row.id}); log in with POST /api/auth/login`);
  } finally {
    await database.close();
  }
} catch (error) {
  console.error(`✖ ${(error as Error).message}`);
  code = 1;
} finally {
  await stopPostgres?.();
}
process.exit(code);
