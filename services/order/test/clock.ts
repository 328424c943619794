import type { Clock } from '../src/app/saga-actions.ts';

/** The saga clock of the order service's database tests: now, and the default deadlines and retries. */
export const testClock: Clock = () => ({
  now: Date.now(),
  defaultDeadlineMs: 30_000,
  invokeRetry: { initialIntervalMs: 2_000, backoffCoefficient: 2, maxIntervalMs: 60_000, maxAttempts: 3 },
  compensationRetry: { initialIntervalMs: 2_000, backoffCoefficient: 2, maxIntervalMs: 60_000, maxAttempts: 8 },
});
