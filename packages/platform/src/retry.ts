// Retry schedules, shared by the Kafka consumer (transient failures) and the saga engine (commands
// and compensations that got no answer). Pure: the random source is passed in where it matters.

export interface RetryPolicy {
  /** Wait after the first attempt. */
  readonly initialIntervalMs: number;
  /** Each further wait is this many times the previous one… */
  readonly backoffCoefficient: number;
  /** …but never longer than this. */
  readonly maxIntervalMs: number;
  /** Attempts in all, the first included (Infinity: until it succeeds). */
  readonly maxAttempts: number;
}

/**
 * The wait after attempt `attempt` (1-based): exponential, capped, with "equal jitter" (a random
 * point in the upper half of the interval), so many retries that failed together do not come
 * back together, yet none comes back much sooner than the schedule says.
 */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxIntervalMs, policy.initialIntervalMs * policy.backoffCoefficient ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + (random() * base) / 2);
}
