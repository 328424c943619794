// `npm test`: type check, lint, then every test file against a real Kafka broker and a real
// PostgreSQL started for this run (fresh data folders, free ports), stopped at the end.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startInfra } from './infra.ts';
import { ensureChromium } from './lib/chromium.ts';

const root = new URL('../', import.meta.url).pathname;
const log = (line: string) => console.log(`• ${line}`);

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: 'inherit', env });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

async function testFiles(): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string) {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.test.ts')) found.push(relative(root, path));
    }
  }
  for (const top of ['packages', 'services', 'test']) await walk(join(root, top));
  return found.sort();
}

const tscBin = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const eslintBin = join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');
// `--checks-only` (npm run lint): the type check and lint, no tests.
const checksOnly = process.argv.includes('--checks-only');
const only = process.argv.slice(2).filter((a) => a !== '--checks-only');

if (only.length === 0) {
  log('type check (tsc)');
  if ((await exec(process.execPath, [tscBin, '-p', '.'])) !== 0) process.exit(1);
  // The console's browser code has its own settings (DOM types, no Node types).
  if ((await exec(process.execPath, [tscBin, '-p', 'packages/console/src/web'])) !== 0) process.exit(1);
  log('lint (eslint, type-aware)');
  if ((await exec(process.execPath, [eslintBin, '.'])) !== 0) process.exit(1);
  if (checksOnly) process.exit(0);
}

const files = only.length > 0 ? only : await testFiles();
// The console's browser tests never skip: Chromium is installed first, or the run stops here.
if (files.some((f) => f.startsWith('test/browser/')) && !ensureChromium(log)) process.exit(1);

const dataDir = await mkdtemp(join(tmpdir(), 'oms-test-'));
// PostgreSQL runs as the postgres user when we are root: it must be able to enter this folder.
await chmod(dataDir, 0o755);
const started = Date.now();
const infra = await startInfra({ root, dataDir, progress: log });
log(`Kafka and PostgreSQL up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
let code = 1;
try {
  log(`running ${files.length} test files`);
  code = await exec(process.execPath, ['--disable-warning=ExperimentalWarning', '--test', '--test-concurrency=1', '--test-timeout=300000', ...files], {
    ...process.env,
    OMS_TEST_KAFKA_BROKERS: infra.brokers,
    OMS_TEST_DATABASE_URL: infra.databaseUrl,
  });
} finally {
  await infra.stop();
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(code);
