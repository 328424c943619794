import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** Runs a command to completion; resolves its exit code. */
export function run(cmd: string, args: string[], opts: { cwd?: string; logTo?: NodeJS.WritableStream } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    if (opts.logTo) {
      child.stdout.pipe(opts.logTo, { end: false });
      child.stderr.pipe(opts.logTo, { end: false });
    } else {
      child.stdout.resume();
      child.stderr.resume();
    }
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

export function commandExists(cmd: string, args = ['-version']): { ok: boolean; output: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: !r.error && r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function terminate(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
