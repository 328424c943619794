import type { MailCatcher } from '../local/mail-catcher.ts';
import { mailPage } from './mail-page.ts';
import { assetPrefix, consoleFile, consolePaths } from '@oms/console';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureTopics, serviceDatabaseName, systemTopics, withDatabaseName } from '@oms/platform';
import type { AuthKeys } from '../local/auth-keys.ts';
import { findFreePort } from '../local/ports.ts';
import { serviceCatalog, type ServiceSpec } from './catalog.ts';
import { startGateway, type Gateway } from './gateway.ts';

const consolePages = Object.fromEntries([...consolePaths, assetPrefix].map((prefix) => [prefix, consoleFile]));

export interface SystemOptions {
  /** Any database URL on the server to use; each service gets its own database there. */
  databaseUrl: string;
  brokers: string;
  /** Prefix for topics, consumer groups and database names: isolates systems sharing infrastructure. */
  prefix: string;
  gatewayPort: number;
  /** Port per service name (its first instance); 0 or missing = pick a free one. */
  servicePorts?: Partial<Record<string, number>>;
  /** Instances of every service (default 1); the gateway spreads requests over them. */
  instances?: number;
  logDir: string;
  demoData?: boolean;
  logLevel?: string;
  partitions?: number;
  /** Copies of each topic partition: 3 on a three-node cluster. */
  replicationFactor?: number;
  /** The token keys: the public ones go to every service, the private one to the user service only. */
  auth: AuthKeys;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** A local mail catcher: the services send order e-mails to it, the gateway shows them at /dev/mail. */
  mailCatcher?: MailCatcher;
  progress?: (line: string) => void;
}

export interface RunningSystemService {
  /** The instance's name: the service's for the first (`order`), with its number for the others (`order-2`). */
  name: string;
  instance: number;
  spec: ServiceSpec;
  port: number;
  url: string;
  process: ChildProcess;
}

export interface RunningSystem {
  readonly baseUrl: string;
  /** Every instance by its name (`order`, `order-2`, …). */
  readonly services: ReadonlyMap<string, RunningSystemService>;
  /** The instances of one service, first to last. */
  instancesOf(service: string): RunningSystemService[];
  /** Sends a signal to one service instance (e.g. SIGKILL in crash tests). Resolves when it has exited. */
  kill(name: string, signal?: NodeJS.Signals): Promise<void>;
  /** Starts a stopped service again on the same port and waits until it is ready. */
  restart(name: string): Promise<void>;
  stop(): Promise<void>;
}

async function waitReady(url: string, child: ChildProcess, name: string, logFile: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the ${name} service exited during start (code ${child.exitCode ?? child.signalCode}); see ${logFile}`);
    }
    try {
      const res = await fetch(`${url}/health/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the ${name} service did not become ready within ${timeoutMs / 1000}s; see ${logFile}`);
}

/**
 * Starts every service as its own OS process (as in production), plus the gateway on the public
 * port. Used by `npm start`, the tests and the benchmark alike.
 */
export async function startSystem(opts: SystemOptions): Promise<RunningSystem> {
  const progress = opts.progress ?? (() => undefined);
  mkdirSync(opts.logDir, { recursive: true });
  progress('creating Kafka topics');
  await ensureTopics(opts.brokers.split(','), systemTopics(opts.prefix, opts.partitions ?? 6, opts.replicationFactor ?? 1));
  const services = new Map<string, RunningSystemService>();

  const instances = opts.instances ?? 1;
  if (!Number.isInteger(instances) || instances < 1) throw new Error(`instances must be a whole number of at least 1, got ${instances}`);
  const instanceName = (spec: ServiceSpec, i: number) => (i === 1 ? spec.name : `${spec.name}-${i}`);

  const spawnService = (spec: ServiceSpec, name: string, port: number): ChildProcess => {
    const logFile = join(opts.logDir, `${name}.log`);
    const out = createWriteStream(logFile, { flags: 'a' });
    // A 2 MB young generation (V8 grows it to 16 MB and more under load) and a 160 MB old one:
    // measured 25-40 % less resident memory per service in the benchmark (under 200 MiB), for a
    // few per cent more CPU in garbage collection.
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', '--max-semi-space-size=2', '--max-old-space-size=160', spec.entry], {
      env: {
        // A local system's webhook receivers are on this machine (deployments leave it off).
        OMS_WEBHOOK_ALLOW_PRIVATE: 'true',
        ...process.env,
        ...(opts.mailCatcher ? { SMTP_URL: opts.mailCatcher.url } : {}),
        ...opts.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: withDatabaseName(opts.databaseUrl, serviceDatabaseName(opts.prefix, spec.name)),
        KAFKA_BROKERS: opts.brokers,
        OMS_TOPIC_PREFIX: opts.prefix,
        // The topics were made above, with this system's partitions and copies.
        OMS_CREATE_TOPICS: 'false',
        OMS_DEMO_DATA: opts.demoData ? 'true' : 'false',
        LOG_LEVEL: opts.logLevel ?? 'info',
        OMS_PARENT_PID: String(process.pid),
        OMS_INSTANCE_ID: name,
        OMS_AUTH_PUBLIC_KEYS: opts.auth.publicKeys,
        OMS_AUTH_SIGNING_KEY: spec.signsTokens ? opts.auth.signingKey : '',
        // The local gateway forwards the client's address in X-Forwarded-For (rate limits key on it).
        OMS_TRUSTED_PROXIES: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    child.once('exit', () => setTimeout(() => out.end(), 50));
    return child;
  };

  const startOne = async (spec: ServiceSpec, instance: number, port: number) => {
    const name = instanceName(spec, instance);
    const child = spawnService(spec, name, port);
    const url = `http://127.0.0.1:${port}`;
    services.set(name, { name, instance, spec, port, url, process: child });
    await waitReady(url, child, name, join(opts.logDir, `${name}.log`));
    return url;
  };

  try {
    // The first instance of each service first: it runs the migrations (the others would wait on
    // the migration lock anyway) and makes the demo data.
    for (let i = 1; i <= instances; i++) {
      await Promise.all(
        serviceCatalog.map(async (spec) => {
          const port = (i === 1 && opts.servicePorts?.[spec.name]) || (await findFreePort());
          progress(`starting ${instances > 1 ? `${instanceName(spec, i)} (${spec.name} service, instance ${i} of ${instances})` : `${spec.name} service`}`);
          await startOne(spec, i, port);
        }),
      );
    }
  } catch (error) {
    for (const s of services.values()) s.process.kill('SIGKILL');
    throw error;
  }

  let gateway: Gateway;
  try {
    const catcher = opts.mailCatcher;
    gateway = await startGateway({
      port: opts.gatewayPort,
      // The operator console's pages and files, and (when e-mail is caught locally) the mail page.
      pages: { ...consolePages, ...(catcher ? { '/dev/mail': (path: string) => mailPage(catcher, path) } : {}) },
      routes: serviceCatalog.flatMap((spec) =>
        spec.prefixes.map((prefix) => ({ prefix, service: spec.name, ports: [...services.values()].filter((s) => s.spec === spec).map((s) => s.port) })),
      ),
    });
  } catch (error) {
    for (const s of services.values()) s.process.kill('SIGKILL');
    throw error;
  }

  const exited = (child: ChildProcess) =>
    child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once('exit', () => r()));

  const system: RunningSystem = {
    baseUrl: gateway.url,
    services,
    instancesOf: (service) => [...services.values()].filter((s) => s.spec.name === service).sort((a, b) => a.instance - b.instance),
    async kill(name, signal = 'SIGTERM') {
      const s = services.get(name);
      if (!s) throw new Error(`no service ${name}`);
      const done = exited(s.process);
      s.process.kill(signal);
      await done;
    },
    async restart(name) {
      const s = services.get(name);
      if (!s) throw new Error(`no service ${name}`);
      await startOne(s.spec, s.instance, s.port);
    },
    async stop() {
      await gateway.close();
      await Promise.all(
        [...services.values()].map(async (s) => {
          const done = exited(s.process);
          s.process.kill('SIGTERM');
          const timer = setTimeout(() => s.process.kill('SIGKILL'), 15_000);
          await done;
          clearTimeout(timer);
        }),
      );
    },
  };
  return system;
}
