// A few seconds of the benchmark, end to end: it must produce a result whose invariants hold and a
// chart. No timing is asserted (speed is for `npm run bench`, not for a test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '@oms/devtools/system';

test('npm run bench: a short fixed-rate run produces a result with every order final, the invariants checked and passing, and a chart', async () => {
  const out = `results/tmp/bench-smoke-${randomBytes(3).toString('hex')}`;
  const args = ['--disable-warning=ExperimentalWarning', join(repoRoot, 'tools', 'bench.ts'), '--rate', '10', '--duration', '2', '--warmup', '1', '--users', '60', '--skus', '20', '--out', out];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    // The test run's Kafka and PostgreSQL (the bench starts its own otherwise).
    env: { ...process.env, KAFKA_BROKERS: process.env.OMS_TEST_KAFKA_BROKERS, DATABASE_URL: process.env.OMS_TEST_DATABASE_URL },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, output.slice(-3_000));

  const result = JSON.parse(await readFile(join(repoRoot, `${out}.json`), 'utf8'));
  assert.equal(result.mode, 'fixed-rate');
  assert.equal(result.phases.length, 1);
  assert.equal(result.phases[0].placed, 20);
  assert.equal(result.phases[0].completed, 20, 'every order reached a final status');
  assert.deepEqual(result.phases[0].errors, {});
  assert.equal(result.invariants.checked, true);
  assert.deepEqual(result.invariants.violations, []);
  assert.equal(result.invariants.passed, true);
  for (const service of ['order', 'inventory', 'user', 'payment', 'notification']) {
    assert.ok(typeof result.cpuSeconds[service] === 'number', `CPU seconds of ${service}`);
    assert.ok(result.peakRssMiB[service] > 0, `peak memory of ${service}`);
  }
  assert.ok(result.overall.sagaMs.p99 >= result.overall.sagaMs.p50, 'percentiles are ordered');
  const total = Object.values(result.overall.finalStates as Record<string, number>).reduce((a, b) => a + b, 0);
  assert.equal(total, 20);
  assert.match(await readFile(join(repoRoot, `${out}.svg`), 'utf8'), /^<svg[\s\S]*Throughput[\s\S]*<\/svg>\s*$/);
  await rm(join(repoRoot, `${out}.json`));
  await rm(join(repoRoot, `${out}.svg`));
});
