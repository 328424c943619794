// CPU seconds and peak memory of the processes a benchmark runs (Linux /proc). PostgreSQL is a
// tree (a postmaster and a backend per connection): its CPU is the postmaster's plus every child's
// (live ones, and through cutime/cstime the ones that exited), its memory the sum of their
// proportional set sizes (shared buffers counted once).
import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

function stat(pid: number): { ppid: number; cpuTicks: number; childTicks: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // After the command: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
    return { ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]), childTicks: Number(fields[13]) + Number(fields[14]) };
  } catch {
    return undefined;
  }
}

function memoryKiB(pid: number, proportional: boolean): number {
  try {
    if (proportional) return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const child = Number(entry);
    if (child > 0 && stat(child)?.ppid === pid) found.push(child);
  }
  return found;
}

interface Tracked {
  pid: number;
  withChildren: boolean;
  peakKiB: number;
}

export class ProcessSampler {
  readonly #tracked = new Map<string, Tracked>();
  #timer: NodeJS.Timeout | undefined;

  track(name: string, pid: number, opts: { withChildren?: boolean } = {}): void {
    this.#tracked.set(name, { pid, withChildren: opts.withChildren ?? false, peakKiB: 0 });
  }

  /** Samples memory every second until stop() (reading PostgreSQL's smaps costs CPU of its own). */
  start(): void {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), 1_000);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sample(): void {
    for (const t of this.#tracked.values()) {
      const pids = t.withChildren ? [t.pid, ...childrenOf(t.pid)] : [t.pid];
      const kib = pids.reduce((sum, pid) => sum + memoryKiB(pid, t.withChildren), 0);
      t.peakKiB = Math.max(t.peakKiB, kib);
    }
  }

  /** CPU ticks used so far, per tracked process (tree). */
  snapshot(): Map<string, number> {
    const ticks = new Map<string, number>();
    for (const [name, t] of this.#tracked) {
      const own = stat(t.pid);
      let total = own ? own.cpuTicks + (t.withChildren ? own.childTicks : 0) : 0;
      if (t.withChildren) for (const child of childrenOf(t.pid)) total += stat(child)?.cpuTicks ?? 0;
      ticks.set(name, total);
    }
    return ticks;
  }

  cpuSecondsSince(start: Map<string, number>): Record<string, number> {
    const now = this.snapshot();
    return Object.fromEntries([...now].map(([name, ticks]) => [name, +((ticks - (start.get(name) ?? 0)) / TICKS).toFixed(1)]));
  }

  peakRssMiB(): Record<string, number> {
    return Object.fromEntries([...this.#tracked].map(([name, t]) => [name, Math.round(t.peakKiB / 1024)]));
  }
}
