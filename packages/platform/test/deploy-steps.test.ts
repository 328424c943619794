// What a deployment (Compose, Kubernetes) relies on beyond the services: settings from files
// (X_FILE, for mounted secrets), the keys step and the topics step.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { allTopics, dlqTopic, prefixed } from '@oms/contracts';
import { BaseConfig, ConfigError, loadConfig } from '../src/config.ts';
import { TokenVerifier } from '../src/http/auth.ts';
import { waitFor } from '@oms/devtools/testing';

const run = promisify(execFile);
const src = new URL('../src/', import.meta.url).pathname;
const scratch = await mkdtemp(join(tmpdir(), 'oms-deploy-steps-'));
after(() => rm(scratch, { recursive: true, force: true }));

test('a setting can come from the file its X_FILE names; the variable itself wins; an unreadable file is a clear error', async () => {
  const file = join(scratch, 'keys.json');
  await writeFile(file, '{"keys":[]}\n');
  const base = { PORT: '1', DATABASE_URL: 'postgres://x' };
  assert.equal(loadConfig(BaseConfig, { ...base, OMS_AUTH_PUBLIC_KEYS_FILE: file }).OMS_AUTH_PUBLIC_KEYS, '{"keys":[]}', 'read and trimmed');
  assert.equal(loadConfig(BaseConfig, { ...base, OMS_AUTH_PUBLIC_KEYS: 'inline', OMS_AUTH_PUBLIC_KEYS_FILE: file }).OMS_AUTH_PUBLIC_KEYS, 'inline');
  assert.throws(() => loadConfig(BaseConfig, { ...base, OMS_AUTH_PUBLIC_KEYS_FILE: join(scratch, 'missing') }), (e: unknown) => e instanceof ConfigError && /OMS_AUTH_PUBLIC_KEYS_FILE names .*missing, which cannot be read \(ENOENT\)/.test(e.message));
});

test('the keys step writes a key pair the services accept, once: a second run keeps it', async () => {
  const dir = join(scratch, 'keys');
  const first = await run(process.execPath, ['--disable-warning=ExperimentalWarning', join(src, 'keygen.ts'), dir]);
  assert.match(first.stdout, /token keys written to/);
  const signing = await readFile(join(dir, 'signing-key.jwk'), 'utf8');
  const publicKeys = await readFile(join(dir, 'public-keys.json'), 'utf8');
  assert.equal((JSON.parse(signing) as { crv: string; d?: string }).crv, 'Ed25519');
  assert.ok((JSON.parse(signing) as { d?: string }).d, 'the private half');
  assert.equal((JSON.parse(publicKeys) as { keys: { d?: string }[] }).keys[0]!.d, undefined, 'no private half in the public keys');
  assert.doesNotThrow(() => new TokenVerifier({ publicKeys: publicKeys.trim(), issuer: 'oms', audience: 'oms-api' }));
  assert.equal((await stat(join(dir, 'public-keys.json'))).mode & 0o777, 0o644);
  const second = await run(process.execPath, ['--disable-warning=ExperimentalWarning', join(src, 'keygen.ts'), dir]);
  assert.match(second.stdout, /already in/);
  assert.equal(await readFile(join(dir, 'signing-key.jwk'), 'utf8'), signing, 'kept');
});

test('the topics step makes every topic and its dead-letter topic, with the partitions asked for', async () => {
  const brokers = process.env.OMS_TEST_KAFKA_BROKERS!;
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const out = await run(process.execPath, ['--disable-warning=ExperimentalWarning', join(src, 'create-topics.ts')], {
    env: { ...process.env, KAFKA_BROKERS: brokers, OMS_TOPIC_PREFIX: prefix, OMS_TOPIC_PARTITIONS: '3' },
  });
  assert.match(out.stdout, new RegExp(`${allTopics.length * 2} topics present .*3 partitions`));
  const admin = new Admin({ clientId: 'deploy-steps', bootstrapBrokers: brokers.split(',') });
  try {
    const want = allTopics.flatMap((t) => [prefixed(prefix, t), dlqTopic(prefixed(prefix, t))]).sort();
    // A new topic reaches every broker's metadata a moment after it is made.
    const made = await waitFor(async () => (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`)).sort(), (names) => names.length === want.length, 'the new topics in the metadata', 10_000);
    assert.deepEqual(made, want);
    const [described] = await admin.metadata({ topics: [prefixed(prefix, allTopics[0]!)] }).then((m) => [...m.topics.values()]);
    assert.equal(described?.partitionsCount, 3);
  } finally {
    await admin.close();
  }
});
