// buildah for `npm run test:image`: the image built and its containers run on a machine without a
// Docker engine. Debian's buildah (bookworm: 1.28) builds from the Dockerfile and runs commands in
// working containers with chroot isolation (no runc, no cgroups) on the host's network, so a
// container's ports are this machine's. Installs buildah and debootstrap with apt-get when they
// are missing and we are root on Debian (as tools/lib/chromium.ts does for Chromium).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Every child process started here that has not exited: stopped on an interrupt. */
const live = new Set<ChildProcess>();

/** Signals each process that is still the one seen (same start time: its id not reused since). */
function signal(processes: Iterable<ProcessEntry>, name: NodeJS.Signals): void {
  for (const p of processes) {
    if (procInfo(p.pid)?.start !== p.start) continue;
    try {
      process.kill(p.pid, name);
    } catch {
      // gone already
    }
  }
}

/**
 * Stops the commands still running (a build, a debootstrap) when the run is cut short, with every
 * process under them: a `buildah bud` given SIGTERM exits without stopping its RUN step's command
 * (which runs on, an orphan), so the signal goes to the whole tree. Resolves once all have exited.
 */
export async function killRunningCommands(graceMs = 10_000): Promise<void> {
  await Promise.all(
    [...live].map(async (child) => {
      if (!child.pid) return;
      const pid = child.pid;
      const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
      const tree = new Map(descendants(pid).map((p) => [p.pid, p]));
      child.kill('SIGTERM');
      signal(tree.values(), 'SIGTERM');
      const timer = setTimeout(() => {
        for (const p of descendants(pid)) tree.set(p.pid, p);
        child.kill('SIGKILL');
        signal(tree.values(), 'SIGKILL');
      }, graceMs);
      await closed;
      clearTimeout(timer);
      // What outlived its parent (reparented, so no longer under it).
      signal(tree.values(), 'SIGKILL');
    }),
  );
}

/** The last lines of a log file (for failure messages). */
export function tail(file: string, lines = 25): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

export interface RunOptions {
  /** Appends the command's output (both streams) here; failures then quote this file's tail. */
  logFile?: string;
  /** Each line of output as it comes (progress). */
  onLine?: (line: string) => void;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command to completion; resolves its standard output, rejects naming it with the tail of its output. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    const fd = opts.logFile ? openSync(opts.logFile, 'a') : undefined;
    let stdout = '';
    let output = '';
    let partial = '';
    const take = (chunk: Buffer, isStdout: boolean) => {
      const text = chunk.toString('utf8');
      if (isStdout) stdout += text;
      if (fd !== undefined) writeSync(fd, text);
      else output = (output + text).slice(-20_000);
      if (opts.onLine) {
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) opts.onLine(line);
      }
    };
    child.stdout.on('data', (c: Buffer) => take(c, true));
    child.stderr.on('data', (c: Buffer) => take(c, false));
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      live.delete(child);
      if (fd !== undefined) closeSync(fd);
      return true;
    };
    child.once('error', (error) => {
      if (settle()) reject(new Error(`could not run ${cmd}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      if (!settle()) return;
      if (code === 0) return resolve(stdout);
      const last = opts.logFile ? tail(opts.logFile) : output.trimEnd().split('\n').slice(-25).join('\n');
      const where = opts.logFile ? ` (log: ${opts.logFile})` : '';
      reject(new Error(`\`${cmd} ${args.slice(0, 2).join(' ')}\` failed (${signal ?? `exit ${code}`})${where}:\n${last}`));
    });
  });
}

/** The program's path: looked up on PATH and in the sbin folders (debootstrap lives in /usr/sbin, off a user's PATH). */
export function findProgram(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * buildah and debootstrap (the base image's root file system), by their paths: found, or installed
 * with apt-get when we are root on Debian. Throws one sentence saying what to install otherwise.
 */
export function ensureImageTools(log: (line: string) => void): { buildah: string; debootstrap: string } {
  const find = () => ({ buildah: findProgram('buildah'), debootstrap: findProgram('debootstrap') });
  let found = find();
  const missing = () => Object.entries(found).filter(([, path]) => !path).map(([name]) => name);
  if (missing().length > 0) {
    const packages = missing();
    const aptGet = '/usr/bin/apt-get';
    if (process.getuid?.() !== 0 || !existsSync(aptGet) || !existsSync('/etc/debian_version')) {
      throw new Error(`npm run test:image needs ${packages.join(' and ')}: install ${packages.length > 1 ? 'them' : 'it'} (on Debian or Ubuntu: sudo apt-get install ${packages.join(' ')}; buildah 1.28 or newer) and run it again.`);
    }
    log(`installing ${packages.join(' and ')} with apt-get (first run only)`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () => spawnSync(aptGet, ['install', '-y', '--no-install-recommends', ...packages], { encoding: 'utf8', env });
    let r = install();
    if (r.status !== 0) {
      // The package lists may be missing or stale on a fresh machine.
      spawnSync(aptGet, ['update'], { stdio: 'ignore', env });
      r = install();
    }
    found = find();
    if (r.status !== 0 || missing().length > 0) {
      throw new Error(`Installing ${packages.join(' and ')} with apt-get failed (exit ${r.status}); install them by hand and run npm run test:image again.\n${`${r.stdout}${r.stderr}`.trimEnd().split('\n').slice(-15).join('\n')}`);
    }
  }
  return { buildah: found.buildah!, debootstrap: found.debootstrap! };
}

/** What `buildah inspect --type image` tells of an image's configuration. */
export interface ImageConfig {
  id: string;
  cmd: string[];
  entrypoint: string[];
  user: string;
  workingDir: string;
  env: string[];
  /** The HEALTHCHECK's test (Docker format only), e.g. ['CMD', 'node', '-e', '…']. */
  healthcheck?: string[];
}

interface InspectedImage {
  FromImageID: string;
  OCIv1: { config?: { Cmd?: string[]; Entrypoint?: string[]; User?: string; WorkingDir?: string; Env?: string[] } };
  Docker: { config?: { Healthcheck?: { Test?: string[] } } };
}

/** buildah commands on one machine's image store. */
export class Buildah {
  readonly bin: string;
  constructor(bin: string) {
    this.bin = bin;
  }

  /** A buildah command's standard output, trimmed. */
  async cmd(args: string[], opts: RunOptions = {}): Promise<string> {
    return (await run(this.bin, args, opts)).trim();
  }

  /** The image's id, or undefined when it is not in the store. */
  async imageId(ref: string): Promise<string | undefined> {
    try {
      return await this.cmd(['inspect', '--type', 'image', '--format', '{{.FromImageID}}', ref]);
    } catch {
      return undefined;
    }
  }

  async imageConfig(ref: string): Promise<ImageConfig> {
    const image = JSON.parse(await this.cmd(['inspect', '--type', 'image', ref])) as InspectedImage;
    const c = image.OCIv1.config ?? {};
    return {
      id: image.FromImageID,
      cmd: c.Cmd ?? [],
      entrypoint: c.Entrypoint ?? [],
      user: c.User ?? '',
      workingDir: c.WorkingDir ?? '',
      env: c.Env ?? [],
      healthcheck: image.Docker.config?.Healthcheck?.Test,
    };
  }

  /** The image's size as `buildah images` shows it ("323 MB"). */
  async imageSize(ref: string): Promise<string> {
    const [image] = JSON.parse(await this.cmd(['images', '--json', ref])) as { size: string }[];
    return image?.size ?? '?';
  }

  /** Removes an image no longer named (best effort: one still used by a container or cached layer stays). */
  async removeImage(id: string): Promise<void> {
    await this.cmd(['rmi', id]).catch(() => undefined);
  }

  /** The working containers in the store. */
  async containers(): Promise<{ id: string; name: string }[]> {
    const list = JSON.parse((await this.cmd(['containers', '--json'])) || '[]') as { id: string; containername: string }[] | null;
    return (list ?? []).map((c) => ({ id: c.id, name: c.containername }));
  }

  /** Names of the working containers in the store. */
  async containerNames(): Promise<string[]> {
    return (await this.containers()).map((c) => c.name);
  }

  async removeContainer(name: string): Promise<void> {
    await this.cmd(['rm', name]).catch(() => undefined);
  }
}

interface ProcessEntry {
  pid: number;
  ppid: number;
  /** Start time (clock ticks after boot): tells the process from a later one given the same id. */
  start: string;
  argv0: string;
}

/** A process's parent, start time and command, from /proc; undefined once it is gone. */
function procInfo(pid: number): Omit<ProcessEntry, 'pid'> | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command: state(0) ppid(1) … starttime(19)
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), start: fields[19] ?? '', argv0: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '' };
  } catch {
    return undefined;
  }
}

/** Every process below `pid` (children first, then theirs). */
export function descendants(pid: number): ProcessEntry[] {
  const all = readdirSync('/proc')
    .map(Number)
    .filter((p) => p > 0)
    .map((p) => ({ pid: p, info: procInfo(p) }))
    .flatMap(({ pid: p, info }) => (info ? [{ pid: p, ...info }] : []));
  const found: ProcessEntry[] = [];
  let parents = new Set([pid]);
  while (parents.size > 0) {
    const next = all.filter((p) => parents.has(p.ppid));
    found.push(...next);
    parents = new Set(next.map((p) => p.pid));
  }
  return found;
}

/**
 * The container's own command under a `buildah run` (chroot isolation): buildah → its chroot
 * runtime → `buildah-chroot-exec` → the command. A signal to `buildah run` itself is not passed
 * on: buildah 1.28 answers SIGTERM by SIGKILLing the command, so `docker stop`'s SIGTERM is sent
 * to the command directly.
 */
export function containerCommandPid(buildahRunPid: number): number | undefined {
  const tree = descendants(buildahRunPid);
  const exec = tree.find((p) => p.argv0 === 'buildah-chroot-exec');
  return exec ? tree.find((p) => p.ppid === exec.pid)?.pid : undefined;
}

export interface ContainerRunOptions {
  /** Environment on top of the image's (`--env`). */
  env?: Record<string, string>;
  /** Host folders (`-v host:container[:ro]`). */
  volumes?: string[];
  /** The command's output goes here. */
  logFile: string;
}

/** How a stopped container's command ended. */
export interface StopOutcome {
  /** It exited by itself within the grace period after SIGTERM. */
  graceful: boolean;
  exitCode: number | null;
  ms: number;
}

/** A working container (`buildah from`), its command run as the image runs it: on the host's network, chroot isolation. */
export class Container {
  private process: ChildProcess | undefined;
  private readonly buildah: Buildah;
  readonly name: string;

  private constructor(buildah: Buildah, name: string) {
    this.buildah = buildah;
    this.name = name;
  }

  /** `buildah from` the image, never pulling. */
  static async create(buildah: Buildah, name: string, image: string): Promise<Container> {
    await buildah.cmd(['from', '--pull=never', '--name', name, image]);
    return new Container(buildah, name);
  }

  private runArgs(command: string[], opts: ContainerRunOptions): string[] {
    return [
      'run', '--isolation', 'chroot', '--network', 'host',
      ...Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      ...(opts.volumes ?? []).flatMap((v) => ['-v', v]),
      this.name, '--', ...command,
    ];
  }

  /** Runs a command to completion (a one-shot step such as the keys or the topics); rejects when it fails. */
  async exec(command: string[], opts: ContainerRunOptions): Promise<string> {
    return run(this.buildah.bin, this.runArgs(command, opts), { logFile: opts.logFile });
  }

  /** Starts the container's long-running command (a service); `exited` settles when it ends. */
  start(command: string[], opts: ContainerRunOptions): { exited: Promise<number | null> } {
    const fd = openSync(opts.logFile, 'a');
    const child = spawn(this.buildah.bin, this.runArgs(command, opts), { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.process = child;
    const exited = new Promise<number | null>((resolve) => {
      child.once('error', () => resolve(null));
      child.once('exit', (code) => resolve(code));
    });
    return { exited };
  }

  get running(): boolean {
    return this.process !== undefined && this.process.exitCode === null && this.process.signalCode === null;
  }

  /**
   * `docker stop`: SIGTERM to the container's command, SIGKILL to all of it when it has not
   * exited within `graceMs` (Docker's default is 10 s).
   */
  async stop(graceMs = 10_000): Promise<StopOutcome> {
    const child = this.process;
    const started = Date.now();
    if (!child?.pid || !this.running) return { graceful: true, exitCode: child?.exitCode ?? null, ms: 0 };
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const tree = descendants(child.pid);
    const command = containerCommandPid(child.pid);
    try {
      if (command) process.kill(command, 'SIGTERM');
      else child.kill('SIGTERM');
    } catch (error) {
      // Exited meanwhile: nothing to stop.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([done.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)))]);
    clearTimeout(timer);
    if (!inTime) {
      child.kill('SIGKILL');
      signal([...tree, ...descendants(child.pid)], 'SIGKILL');
      await done;
    }
    return { graceful: inTime && command !== undefined, exitCode: child.exitCode, ms: Date.now() - started };
  }

  /** `buildah rm` (unmounts it too). */
  async remove(): Promise<void> {
    await this.buildah.removeContainer(this.name);
  }
}
