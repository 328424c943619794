import { EventEmitter } from 'node:events';
import { Sleeper, type Logger } from '@oms/platform';

/** Wakes this process's senders once deliveries they can send have committed. */
const queued = new EventEmitter();
export function deliveriesQueued(): void {
  queued.emit('queued');
}

export interface DeliveryLoopOptions<T> {
  /** For the log: `webhook`, `e-mail`. */
  channel: string;
  logger: Logger;
  pollMs: number;
  /** Attempts in flight at once. */
  concurrency: number;
  /**
   * Claims up to `room` due deliveries for this sender (for longer than an attempt can take, so no
   * other instance sends them meanwhile), given how many of each key are in flight here.
   */
  claim: (room: number, inFlight: ReadonlyMap<string, number>) => Promise<T[]>;
  /** What deliveries share a limit of attempts in flight (an endpoint), if anything. */
  keyOf: (delivery: T) => string;
  /** Makes one attempt and records its outcome; a failure to record is logged and the claim lapses. */
  attempt: (delivery: T) => Promise<void>;
}

/**
 * Sends queued deliveries apart from event consumption: claims due ones, runs up to
 * `concurrency` attempts at once without waiting for any, and claims more as attempts finish,
 * when a commit of this process queues some, or every `pollMs` (deliveries another instance
 * queued, retries coming due). `stop()` lets the attempts in flight finish.
 */
export function startDeliveryLoop<T>(opts: DeliveryLoopOptions<T>): { stop(): Promise<void> } {
  const { logger } = opts;
  const inFlight = new Map<string, number>();
  const attempts = new Set<Promise<void>>();
  let running = true;
  const sleeper = new Sleeper();
  const poke = () => sleeper.wake();
  queued.on('queued', poke);

  function start(delivery: T): void {
    const key = opts.keyOf(delivery);
    inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
    const p = opts
      .attempt(delivery)
      .catch((error: unknown) => logger.warn({ err: error, channel: opts.channel }, 'recording a delivery attempt failed; it is tried again when its claim lapses'))
      .finally(() => {
        const n = (inFlight.get(key) ?? 1) - 1;
        if (n === 0) inFlight.delete(key);
        else inFlight.set(key, n);
        attempts.delete(p);
        poke(); // a slot is free
      });
    attempts.add(p);
  }

  const sleep = (ms: number) => (running ? sleeper.sleep(ms) : Promise.resolve());

  const loop = (async () => {
    let backoff = 100;
    while (running) {
      try {
        sleeper.clear();
        for (const d of await opts.claim(opts.concurrency - attempts.size, inFlight)) start(d);
        backoff = 100;
        // Until the next poll, a commit that queued deliveries, or a freed slot.
        await sleep(opts.pollMs);
      } catch (error) {
        logger.warn({ err: error, channel: opts.channel }, 'claiming deliveries failed; will retry');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  })();

  return {
    async stop() {
      running = false;
      queued.off('queued', poke);
      sleeper.wake();
      await loop;
      // Attempts in flight finish (each is bounded by its timeout) and are recorded.
      await Promise.allSettled([...attempts]);
    },
  };
}
