// `npm run test:image`: the Dockerfile built and run on this machine, which has no Docker engine
// (and cannot pull base images). buildah builds the unchanged Dockerfile on a local stand-in for
// node:24-slim (tools/lib/base-image.ts; kept in buildah's store for the next run), then every
// service and the console run from the image, each in its own working container with the image's
// own command, against a Kafka and a PostgreSQL started here, configured as deploy/compose.yaml
// configures them: the image's keys and topics steps first, a database per service (oms_<name>,
// made by the service), the keys read from /keys through the _FILE settings. One order is driven
// through the services' APIs to READY_FOR_DELIVERY, the console's page and the API docs are
// fetched, the image's HEALTHCHECK is run in every container, and every container is stopped as
// `docker stop` does (SIGTERM; it must exit 0 within 10 s).
//   OMS_IMAGE_REBUILD_BASE=1   make the base image again even when the store has it
//   OMS_IMAGE_NO_CACHE=1       build without buildah's layer cache
//   OMS_DEBIAN_MIRROR=<url>    debootstrap's mirror (default http://deb.debian.org/debian)
// Logs: .cache/image-test/ (the build, each container). Needs root (debootstrap, chroot isolation).
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { getCACertificates } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '@oms/devtools/local';
import { login, serviceCatalog } from '@oms/devtools/system';
import { serviceDatabaseName, withDatabaseName } from '@oms/platform';
import { startInfra, type Infra } from './infra.ts';
import { BASE_IMAGE, ensureBaseImage } from './lib/base-image.ts';
import { Buildah, Container, descendants, ensureImageTools, killRunningCommands, run, tail, type StopOutcome } from './lib/buildah.ts';

const root = new URL('../', import.meta.url).pathname;
const started = Date.now();
const since = (t: number) => (Date.now() - t) / 1000;
const log = (line: string) => console.log(`• ${line} (${since(started).toFixed(1)}s)`);

/** The container name prefix of this run: a later run removes the containers of one that died. */
const RUN_PREFIX = 'oms-image-test-';
const runName = `${RUN_PREFIX}${process.pid}`;
/** The image's `node` user (uid 1000, as in the official image) must write the keys folder and read it. */
const NODE_UID = 1000;
const READY_TIMEOUT_MS = 120_000;

/** A failure of one container: reported with its log's tail. */
class ContainerFailure extends Error {
  readonly service: string;
  constructor(service: string, message: string) {
    super(message);
    this.service = service;
  }
}

interface RunningService {
  name: string;
  container: Container;
  port: number;
  url: string;
  env: Record<string, string>;
  logFile: string;
  exited: Promise<number | null>;
}

const logDir = join(root, '.cache', 'image-test');
let workDir: string | undefined;
let infra: Infra | undefined;
const containers: Container[] = [];
const services: RunningService[] = [];
let stopping = false;
let interrupted = false;
let cleaning: Promise<void> | undefined;

/** Stops every container, removes them, stops Kafka and PostgreSQL and removes the data: on success, failure or interrupt (once). */
function cleanUp(): Promise<void> {
  cleaning ??= removeEverything();
  return cleaning;
}

async function removeEverything(): Promise<void> {
  stopping = true;
  await killRunningCommands();
  if (buildingSince) await removeBuildLeftovers(buildingSince.buildah, buildingSince.ids);
  await Promise.all(containers.map((c) => c.stop().catch(() => undefined)));
  await Promise.all(containers.splice(0).map((c) => c.remove()));
  await infra?.stop().catch(() => undefined);
  infra = undefined;
  if (workDir) await rm(workDir, { recursive: true, force: true });
  workDir = undefined;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n✖ interrupted (${signal}): removing the containers and stopping Kafka and PostgreSQL…`);
    void cleanUp().finally(() => process.exit(130));
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Working containers of earlier runs whose process is gone (killed outright): their commands stopped, the containers removed. */
async function removeLeftovers(buildah: Buildah): Promise<void> {
  const stale = (await buildah.containerNames()).filter((name) => {
    const pid = Number(new RegExp(`^${RUN_PREFIX}(\\d+)-`).exec(name)?.[1]);
    return pid > 0 && pid !== process.pid && !isRunning(pid);
  });
  if (stale.length === 0) return;
  log(`removing ${stale.length} containers left by an earlier run that was killed`);
  // Their `buildah run` processes, if any outlived it: by their command line, which names the container.
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!(pid > 0)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!argv[0]?.endsWith('buildah') || argv[1] !== 'run' || !stale.some((name) => argv.includes(name))) continue;
    for (const p of [...descendants(pid).map((d) => d.pid), pid]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  for (const name of stale) await buildah.removeContainer(name);
}

/** The version every workspace shares (the image's tag, as deploy/compose.yaml and Kustomize name it). */
async function projectVersion(): Promise<string> {
  const versions = new Set<string>();
  for (const group of ['packages', 'services']) {
    for (const name of readdirSync(join(root, group))) {
      const manifest = JSON.parse(await readFile(join(root, group, name, 'package.json'), 'utf8')) as { version?: string };
      if (manifest.version) versions.add(manifest.version);
    }
  }
  if (versions.size !== 1) throw new Error(`the workspaces' package.json files name ${versions.size} versions (${[...versions].join(', ')}); the image is tagged with the one they share`);
  return [...versions][0]!;
}

/**
 * The npm settings `npm ci` inside the build runs with: this machine's registry and proxies, and
 * the certificates this Node trusts (its own, NODE_EXTRA_CA_CERTS) plus npm's cafile, so a
 * TLS-inspecting proxy's CA is trusted as on the host. Mounted read-only over /usr/local/etc,
 * where the image's npm reads its global npmrc: a folder the official image and the stand-in both
 * have, so nothing is left in the image (buildah 1.28 makes a missing mount point in the layer).
 */
async function npmSettingsForBuild(dir: string): Promise<string> {
  type Setting = string | string[] | null | undefined;
  const config = JSON.parse(await run('npm', ['config', 'list', '--json'], { cwd: root })) as Record<'registry' | 'proxy' | 'https-proxy' | 'noproxy' | 'cafile', Setting>;
  const values = (key: keyof typeof config) => [config[key] ?? []].flat().filter((v) => v !== '');
  const lines = [`registry=${values('registry')[0] ?? 'https://registry.npmjs.org/'}`];
  for (const key of ['proxy', 'https-proxy', 'noproxy'] as const) if (values(key).length > 0) lines.push(`${key}=${values(key).join(',')}`);
  const cafile = values('cafile')[0];
  const extra = cafile ? await readFile(cafile, 'utf8') : '';
  // Only root (the build) reads them: the proxy settings may hold credentials.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  await writeFile(join(dir, 'oms-build-ca.pem'), [...getCACertificates('default'), extra].join('\n'));
  lines.push('cafile=/usr/local/etc/oms-build-ca.pem', 'update-notifier=false', 'audit=false', 'fund=false');
  await writeFile(join(dir, 'npmrc'), `${lines.join('\n')}\n`, { mode: 0o600 });
  return dir;
}

/** The containers in the store when a build started (set while `buildah bud` runs). */
let buildingSince: { buildah: Buildah; ids: Set<string> } | undefined;

/**
 * A `buildah bud` that is killed leaves the working containers of its steps behind (1.28 removes
 * them on success, and with --force-rm on a failed step, but not on a signal): the ones it made go.
 */
async function removeBuildLeftovers(buildah: Buildah, before: Set<string>): Promise<void> {
  const left = (await buildah.containers()).filter((c) => !before.has(c.id) && c.name.endsWith('-working-container'));
  for (const c of left) await buildah.removeContainer(c.id);
}

/** `buildah bud` of the unchanged Dockerfile, with the layer cache (like `docker build`). */
async function buildImage(buildah: Buildah, ref: string, dir: string): Promise<{ seconds: number; steps: number; cached: number }> {
  const t = Date.now();
  const previous = await buildah.imageId(ref);
  const npmEtc = await npmSettingsForBuild(join(dir, 'build-etc'));
  log(`building ${ref} from the Dockerfile (buildah bud, chroot isolation, host network)`);
  let steps = 0;
  let cached = 0;
  buildingSince = { buildah, ids: new Set((await buildah.containers()).map((c) => c.id)) };
  await buildah.cmd(
    [
      'bud', '--pull=never', '--isolation', 'chroot', '--network', 'host', '--layers', '--force-rm', '--format', 'docker',
      ...(process.env.OMS_IMAGE_NO_CACHE === '1' ? ['--no-cache'] : []),
      '-v', `${npmEtc}:/usr/local/etc:ro`,
      '-f', join(root, 'Dockerfile'), '-t', ref, root,
    ],
    {
      logFile: join(logDir, 'build.log'),
      onLine: (line) => {
        // Every step but FROM makes a layer (or takes it from the cache).
        if (/^\[\d+\/\d+\] STEP \d+\/\d+: (?!FROM )/.test(line)) steps++;
        if (line.startsWith('--> Using cache')) cached++;
        // The steps that take time, as they start.
        if (/^\[\d+\/\d+\] STEP \d+\/\d+: (FROM|RUN) /.test(line)) log(`  ${line.length > 150 ? `${line.slice(0, 150)}…` : line}`);
      },
    },
  );
  buildingSince = undefined;
  const id = await buildah.imageId(ref);
  // A changed source moves the tag: the image it named before goes (its cached layers stay).
  if (previous && previous !== id) await buildah.removeImage(previous);
  return { seconds: since(t), steps, cached };
}

/** The image's command (ENTRYPOINT + CMD), as `docker run` would run it. */
async function imageCommand(buildah: Buildah, ref: string): Promise<{ command: string[]; user: string; healthcheck: string[] | undefined }> {
  const config = await buildah.imageConfig(ref);
  const command = [...config.entrypoint, ...config.cmd];
  if (command.length === 0) throw new Error(`${ref} has no CMD`);
  if (!config.user || config.user === 'root' || config.user === '0') throw new Error(`${ref} runs as root (USER is ${JSON.stringify(config.user)})`);
  return { command, user: config.user, healthcheck: config.healthcheck };
}

async function waitReady(s: RunningService): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let code: number | null | undefined;
  void s.exited.then((c) => (code = c));
  while (Date.now() < deadline) {
    if (code !== undefined) throw new ContainerFailure(s.name, `the ${s.name} container exited during start (buildah run: exit ${code})`);
    try {
      const res = await fetch(`${s.url}/health/ready`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new ContainerFailure(s.name, `the ${s.name} container was not ready within ${READY_TIMEOUT_MS / 1000} s (${s.url}/health/ready)`);
}

/** Rejects as soon as a started container exits while the test still needs it. */
function watchForCrashes(): Promise<never> {
  return new Promise<never>((_, reject) => {
    for (const s of services) {
      void s.exited.then((code) => {
        if (!stopping) reject(new ContainerFailure(s.name, `the ${s.name} container stopped unexpectedly (buildah run: exit ${code})`));
      });
    }
  });
}

interface Reply<T> {
  status: number;
  body: T;
}

async function call<T>(url: string, opts: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply<T>> {
  const res = await fetch(url, {
    method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
    headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the text itself
  }
  return { status: res.status, body: body as T };
}

function expectStatus(reply: Reply<unknown>, status: number, what: string, service: string): void {
  if (reply.status !== status) throw new ContainerFailure(service, `${what} answered ${reply.status}, expected ${status}: ${JSON.stringify(reply.body).slice(0, 500)}`);
}

/** Polls until `done` holds (the API has no event to wait on for these), failing with the last value seen. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, service: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  do {
    last = await read();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < deadline);
  throw new ContainerFailure(service, `timed out waiting for ${what}; last: ${JSON.stringify(last).slice(0, 500)}`);
}

interface Order {
  id: string;
  status: string;
  total: { amount: number; currency: string };
  failureReasons: { code: string }[];
}

/** One order, as the e2e tests place it: a customer made by the operator, a stocked product, the customer's own order. */
async function driveOrder(url: (service: string) => string, operator: { email: string; password: string }): Promise<{ order: Order; seconds: number }> {
  const admin = await login(url('user'), operator.email, operator.password);
  const email = `image-test-${randomBytes(4).toString('hex')}@example.com`;
  const password = randomBytes(12).toString('base64url');
  const created = await call<{ id: string }>(`${url('user')}/api/users`, { token: admin.accessToken, body: { name: 'Image Test', email, password } });
  expectStatus(created, 201, 'POST /api/users', 'user');
  const customer = await login(url('user'), email, password);
  const sku = `IMG-${randomBytes(4).toString('hex')}`;
  const product = await call(`${url('inventory')}/api/products`, { token: admin.accessToken, body: { sku, name: `Product ${sku}`, price: { amount: 1250, currency: 'EUR' }, stock: 5 } });
  expectStatus(product, 201, 'POST /api/products', 'inventory');
  log(`customer ${created.body.id} and product ${sku} (5 in stock) made; placing an order for 2`);

  const t = Date.now();
  // `Prefer: wait` answers once the order is final (at most 30 s a request), so nothing polls.
  let placed = await call<Order>(`${url('order')}/api/orders`, { token: customer.accessToken, body: { userId: customer.userId, items: [{ sku, quantity: 2 }] }, headers: { prefer: 'wait=30' } });
  if (placed.status !== 201 && placed.status !== 202) expectStatus(placed, 201, 'POST /api/orders', 'order');
  for (let i = 0; i < 3 && !['READY_FOR_DELIVERY', 'FAILED'].includes(placed.body.status); i++) {
    placed = await call<Order>(`${url('order')}/api/orders/${placed.body.id}`, { token: customer.accessToken, headers: { prefer: 'wait=30' } });
  }
  const order = placed.body;
  const seconds = since(t);
  if (order.status !== 'READY_FOR_DELIVERY') throw new ContainerFailure('order', `order ${order.id} ended ${order.status}, not READY_FOR_DELIVERY: ${JSON.stringify(order.failureReasons)}`);
  if (order.total.amount !== 2500 || order.total.currency !== 'EUR') throw new ContainerFailure('order', `order ${order.id} totals ${JSON.stringify(order.total)}, expected 2500 EUR`);
  log(`order ${order.id} READY_FOR_DELIVERY in ${seconds.toFixed(1)} s (total 25.00 EUR)`);

  // What the other participants recorded: the stock committed, the payment held, the notifications.
  await until(() => call<{ committed: number; reserved: number }>(`${url('inventory')}/api/products/${sku}`, { token: admin.accessToken }), (r) => r.body.committed === 2 && r.body.reserved === 0, 'the stock to be committed', 'inventory');
  const account = await call<{ held: { amount: number } }>(`${url('payment')}/api/payments/accounts/${customer.userId}`, { token: admin.accessToken });
  expectStatus(account, 200, 'GET /api/payments/accounts/:id', 'payment');
  if (account.body.held.amount !== 2500) throw new ContainerFailure('payment', `the payment account holds ${account.body.held.amount}, expected 2500`);
  await until(() => call<{ items: unknown[] }>(`${url('notification')}/api/notifications?orderId=${order.id}`, { token: customer.accessToken }), (r) => r.body.items?.length >= 2, 'the order to be notified (created, ready)', 'notification');
  log('inventory committed the stock, payment holds 25.00 EUR, notification recorded the order');
  return { order, seconds };
}

/** The console's shell page, its code (type-stripped on request) and a vendored module from the image's node_modules. */
async function checkConsole(consoleUrl: string): Promise<void> {
  const page = await fetch(`${consoleUrl}/`);
  const html = await page.text();
  if (page.status !== 200 || !page.headers.get('content-type')?.startsWith('text/html') || !html.includes('<title>OMS console</title>')) {
    throw new ContainerFailure('console', `GET / answered ${page.status} ${page.headers.get('content-type')}: ${html.slice(0, 300)}`);
  }
  for (const path of ['/console/app/main.ts', '/console/vendor/preact.js']) {
    const res = await fetch(`${consoleUrl}${path}`);
    const type = res.headers.get('content-type') ?? '';
    await res.arrayBuffer();
    if (res.status !== 200 || !type.includes('javascript')) throw new ContainerFailure('console', `GET ${path} answered ${res.status} ${type}`);
  }
  log('the console serves its page, its code and Preact');
}

/** Each service's API docs (Swagger UI's files come from the image's node_modules) and its OpenAPI document. */
async function checkDocs(url: (service: string) => string): Promise<void> {
  await Promise.all(
    serviceCatalog.map(async ({ name }) => {
      const page = await fetch(`${url(name)}/docs/${name}`);
      const html = await page.text();
      if (page.status !== 200 || !html.includes('swagger-ui')) throw new ContainerFailure(name, `GET /docs/${name} answered ${page.status}: ${html.slice(0, 200)}`);
      const spec = await call<{ openapi?: string }>(`${url(name)}/docs/${name}/json`);
      if (spec.status !== 200 || !spec.body.openapi) throw new ContainerFailure(name, `GET /docs/${name}/json answered ${spec.status} without an OpenAPI document`);
    }),
  );
  log(`every service serves its API docs (${serviceCatalog.map((s) => `/docs/${s.name}`).join(', ')})`);
}

/** The image's HEALTHCHECK command, run in each container as Docker would (same environment). */
async function checkHealthchecks(healthcheck: string[] | undefined): Promise<void> {
  if (!healthcheck || healthcheck.length < 2 || healthcheck[0] === 'NONE') throw new Error('the image has no HEALTHCHECK (built with --format docker, it would be kept)');
  const command = healthcheck[0] === 'CMD-SHELL' ? ['/bin/sh', '-c', healthcheck[1]!] : healthcheck.slice(1);
  await Promise.all(
    services.map(async (s) => {
      try {
        await s.container.exec(command, { env: s.env, logFile: join(logDir, `${s.name}-healthcheck.log`) });
      } catch (error) {
        throw new ContainerFailure(s.name, `the image's HEALTHCHECK failed in the ${s.name} container: ${(error as Error).message}`);
      }
    }),
  );
  log(`the image's HEALTHCHECK passes in all ${services.length} containers`);
}

function reportFailure(error: unknown): void {
  console.error(`\n✖ npm run test:image failed: ${(error as Error).message}`);
  const failed = error instanceof ContainerFailure ? services.filter((s) => s.name === error.service) : services;
  for (const s of failed) {
    const last = tail(s.logFile, error instanceof ContainerFailure ? 40 : 10);
    if (last) console.error(`\n--- the ${s.name} container's log (${s.logFile}), last lines ---\n${last}`);
  }
}

let exitCode = 0;
try {
  const tools = ensureImageTools(log);
  if (process.getuid?.() !== 0) {
    throw new Error("it needs root: debootstrap makes the base image's files, and buildah runs containers with chroot isolation, which needs root.");
  }
  await rm(logDir, { recursive: true, force: true });
  await mkdir(logDir, { recursive: true });
  const buildah = new Buildah(tools.buildah);
  await removeLeftovers(buildah);
  workDir = await mkdtemp(join(tmpdir(), 'oms-image-test-'));
  // PostgreSQL runs as the postgres user when we are root: it must be able to enter this folder.
  await chmod(workDir, 0o755);

  // 1. The base image (reused from buildah's store when there), 2. the image.
  const base = await ensureBaseImage({
    buildah,
    debootstrap: tools.debootstrap,
    workDir,
    logDir,
    containerName: `${runName}-base`,
    rebuild: process.env.OMS_IMAGE_REBUILD_BASE === '1',
    mirror: process.env.OMS_DEBIAN_MIRROR || 'http://deb.debian.org/debian',
    log,
  });
  const ref = `localhost/oms:${await projectVersion()}`;
  const build = await buildImage(buildah, ref, workDir);
  const size = await buildah.imageSize(ref);
  log(`built ${ref} in ${build.seconds.toFixed(1)} s (${build.cached} of ${build.steps} layers from the cache): ${size}`);
  const image = await imageCommand(buildah, ref);

  // 3. Kafka and PostgreSQL of this run alone (not KAFKA_BROKERS / DATABASE_URL: the containers get
  //    Compose's database names and unprefixed topics, so they must not share a server).
  delete process.env.KAFKA_BROKERS;
  delete process.env.DATABASE_URL;
  const infraStarted = Date.now();
  infra = await startInfra({ root, dataDir: workDir, progress: log });
  log(`Kafka and PostgreSQL up in ${since(infraStarted).toFixed(1)} s`);

  // 4. The one-shot steps of deploy/compose.yaml, from the image: the token keys into a folder
  //    mounted at /keys, then the topics.
  const keysDir = join(workDir, 'keys');
  await mkdir(keysDir);
  await chown(keysDir, NODE_UID, NODE_UID);
  const steps = await Container.create(buildah, `${runName}-steps`, ref);
  containers.push(steps);
  await steps.exec(['node', 'packages/platform/src/keygen.ts', '/keys'], { volumes: [`${keysDir}:/keys`], logFile: join(logDir, 'keys.log') });
  await steps.exec(['node', 'packages/platform/src/create-topics.ts'], {
    env: { KAFKA_BROKERS: infra.brokers, OMS_TOPIC_PARTITIONS: '6', OMS_KAFKA_REPLICATION_FACTOR: String(infra.replicationFactor) },
    logFile: join(logDir, 'topics.log'),
  });
  log(`the image's keys and topics steps ran (${tail(join(logDir, 'topics.log'), 1)})`);

  // 5. Every service and the console, each in its own container, all at once (as Compose starts them).
  //    PostgreSQL over TCP: the local server's URL names its Unix socket, a host folder the
  //    containers do not have.
  const databaseUrl = new URL(infra.databaseUrl);
  databaseUrl.searchParams.delete('host');
  const operator = { email: `operator-${randomBytes(4).toString('hex')}@image-test.example`, password: randomUUID() };
  const servicesStarted = Date.now();
  for (const name of [...serviceCatalog.map((s) => s.name), 'console']) {
    const port = await findFreePort();
    const env: Record<string, string> =
      name === 'console'
        ? { SERVICE: name, HOST: '127.0.0.1', PORT: String(port) }
        : {
            SERVICE: name,
            HOST: '127.0.0.1',
            PORT: String(port),
            DATABASE_URL: withDatabaseName(databaseUrl.toString(), serviceDatabaseName('', name)),
            KAFKA_BROKERS: infra.brokers,
            OMS_AUTH_PUBLIC_KEYS_FILE: '/keys/public-keys.json',
            LOG_LEVEL: 'info',
            ...(name === 'user'
              ? { OMS_AUTH_SIGNING_KEY_FILE: '/keys/signing-key.jwk', OMS_BOOTSTRAP_OPERATOR_EMAIL: operator.email, OMS_BOOTSTRAP_OPERATOR_PASSWORD: operator.password }
              : {}),
          };
    const container = await Container.create(buildah, `${runName}-${name}`, ref);
    containers.push(container);
    const logFile = join(logDir, `${name}.log`);
    const { exited } = container.start(image.command, { env, volumes: name === 'console' ? [] : [`${keysDir}:/keys:ro`], logFile });
    services.push({ name, container, port, url: `http://127.0.0.1:${port}`, env, logFile, exited });
  }
  log(`started ${services.length} containers (${services.map((s) => `${s.name} :${s.port}`).join(', ')}); waiting for /health/ready`);
  const crashed = watchForCrashes();
  crashed.catch(() => undefined);
  await Promise.race([Promise.all(services.map(waitReady)), crashed]);
  const readySeconds = since(servicesStarted);
  log(`all ${services.length} containers ready in ${readySeconds.toFixed(1)} s`);

  // 6. One order through the API, the console, the HEALTHCHECK.
  const url = (name: string) => services.find((s) => s.name === name)!.url;
  const { seconds: orderSeconds } = await Promise.race([driveOrder(url, operator), crashed]);
  await Promise.race([checkConsole(url('console')), crashed]);
  await Promise.race([checkDocs(url), crashed]);
  await Promise.race([checkHealthchecks(image.healthcheck), crashed]);

  // 7. `docker stop`: each container's command gets SIGTERM and has 10 s to exit.
  stopping = true;
  const stops = await Promise.all(services.map(async (s): Promise<[string, StopOutcome]> => [s.name, await s.container.stop()]));
  log(`stopped on SIGTERM: ${stops.map(([name, o]) => `${name} ${(o.ms / 1000).toFixed(1)} s${o.graceful ? '' : ' (KILLED)'}${o.exitCode ? ` (exit ${o.exitCode})` : ''}`).join(', ')}`);
  const slow = stops.find(([, o]) => !o.graceful);
  if (slow) throw new ContainerFailure(slow[0], `the ${slow[0]} container did not exit within 10 s of SIGTERM (docker stop would have killed it)`);
  const unclean = stops.find(([, o]) => o.exitCode !== 0);
  if (unclean) throw new ContainerFailure(unclean[0], `the ${unclean[0]} container exited ${unclean[1].exitCode} on SIGTERM, not 0`);

  await cleanUp();
  const total = since(started);
  console.log(`\n✔ npm run test:image passed in ${total.toFixed(1)} s`);
  console.log(`  image       ${ref}: ${size}, runs as ${image.user}`);
  console.log(`  base        ${BASE_IMAGE}: ${base.built ? `made here in ${base.seconds.toFixed(1)} s` : "reused from buildah's store"} (${await buildah.imageSize(BASE_IMAGE)})`);
  console.log(`  build       ${build.seconds.toFixed(1)} s (${build.cached} of ${build.steps} layers from the cache)`);
  console.log(`  containers  ${services.length} ready in ${readySeconds.toFixed(1)} s; one order READY_FOR_DELIVERY in ${orderSeconds.toFixed(1)} s`);
  console.log(`  total       ${total.toFixed(1)} s   (logs: ${logDir})`);
} catch (error) {
  // An interrupt stops the containers under the steps still running: their failures are its doing.
  if (!interrupted) reportFailure(error);
  exitCode = 1;
  await cleanUp();
}
process.exit(interrupted ? 130 : exitCode);
