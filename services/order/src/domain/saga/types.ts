import type { FailureReason, MessageDefinition } from '@oms/contracts';
import type { RetryPolicy } from '@oms/platform/retry';

export type { RetryPolicy };

/** One step of a saga, declared as data: what to ask, how to undo it, and which steps run together. */
export interface StepDefinition {
  /** Stable id, stored in saga instances: never rename one that has run. */
  readonly id: string;
  /** Steps with the same stage run in parallel; stages run in order. */
  readonly stage: number;
  readonly command: MessageDefinition;
  readonly reply: MessageDefinition;
  /**
   * How to undo the step. Compensations are retried (the command sent again, participants are
   * idempotent) on `retry`'s schedule until answered; when its attempts run out the saga stops in
   * COMPENSATION_FAILED for an operator.
   */
  readonly compensation?: { readonly command: MessageDefinition; readonly reply: MessageDefinition; readonly retry?: Partial<RetryPolicy> };
  /** How long the participant has to answer; the runtime default applies when absent. */
  readonly deadlineMs?: number;
  /**
   * When to send the command again while no answer came (within the deadline). A refusal is an
   * answer, final at once: only silence is retried. The runtime default applies to missing fields.
   */
  readonly retry?: Partial<RetryPolicy>;
  /** The command's payload, from the order. Passes on only what the participant needs. */
  readonly payload: (order: SagaOrder) => unknown;
}

/** What steps may read of the order. */
export interface SagaOrder {
  id: string;
  userId: string;
  items: { sku: string; quantity: number }[];
  /** Known once stock is reserved (the reservation prices the lines). */
  total: { amount: number; currency: string } | null;
}

export interface SagaDefinition {
  readonly name: string;
  readonly version: number;
  readonly steps: readonly StepDefinition[];
}

export type StepStatus = 'PENDING' | 'WAITING' | 'SUCCEEDED' | 'FAILED' | 'COMPENSATING' | 'COMPENSATED' | 'COMPENSATION_FAILED';
/**
 * COMPENSATING ends FAILED; CANCELLING (a cancel request) ends CANCELLED. COMPENSATION_FAILED: a
 * compensation ran out of attempts; the saga waits for an operator's retry (or a late answer).
 */
export const SagaStates = ['RUNNING', 'COMPENSATING', 'SUCCEEDED', 'FAILED', 'CANCELLING', 'CANCELLED', 'COMPENSATION_FAILED'] as const;
export type SagaState = (typeof SagaStates)[number];

export const finalSagaStates: ReadonlySet<SagaState> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/**
 * Why a saga needs a person, most urgent first: a compensation given up (COMPENSATION_FAILED); not
 * final and overdue (the sweeper has not moved it); a command or compensation being sent again.
 */
export const SagaAttentions = ['compensation-failed', 'overdue', 'retrying'] as const;
export type SagaAttention = (typeof SagaAttentions)[number];

export interface StepState {
  status: StepStatus;
  reasons: FailureReason[];
  /** Attempts of the current phase (invoking, then compensating); absent in rows written before retries existed. */
  attempts?: number;
  /** When to send the command (or compensation) again, or give up on it (epoch ms). */
  nextAttemptAt?: number | null;
  /** Why the compensation was given up, for operators. */
  error?: string;
  // When things happened (epoch ms), for operators; absent in rows written before they were kept.
  /** The command's first send in its invoke phase. */
  sentAt?: number;
  /** The command's latest send (its latest attempt). */
  lastSentAt?: number;
  /** When the participant's answer (success or refusal) was applied, or the step timed out or failed without one. */
  answeredAt?: number;
  /** The compensation's first send. */
  compensationSentAt?: number;
  /** The compensation's latest send. */
  lastCompensationSentAt?: number;
  /** When the compensation's answer was applied. */
  compensatedAt?: number;
}

export interface SagaInstance {
  orderId: string;
  definition: string;
  definitionVersion: number;
  state: SagaState;
  steps: Record<string, StepState>;
  /** When the running stage must have answered (epoch ms); null once the saga is no longer waiting. */
  deadlineAt: number | null;
  /** In COMPENSATION_FAILED: the state a retry resumes (COMPENSATING ends FAILED, CANCELLING ends CANCELLED). */
  resumeState?: 'COMPENSATING' | 'CANCELLING';
  /** Optimistic concurrency: bumped on every write. */
  version: number;
  /** The trace the order was placed in (W3C traceparent), when tracing: what the clock sends joins it. */
  traceparent?: string;
}

/** Clock and default deadline for the engine's decisions (passed in: the engine stays pure). */
export interface Timing {
  now: number;
  defaultDeadlineMs: number;
  /** Default schedule for sending a command again while unanswered. */
  invokeRetry?: RetryPolicy;
  /** Default schedule for compensations; its maxAttempts bounds the road to COMPENSATION_FAILED. */
  compensationRetry?: RetryPolicy;
  /** Jitter source (tests pass a fixed one). */
  random?: () => number;
}

/** What the orchestrator must do after a decision. */
export type SagaAction =
  | { kind: 'invoke'; stepId: string }
  | { kind: 'compensate'; stepId: string }
  | { kind: 'succeed' }
  | { kind: 'fail'; reasons: FailureReason[] }
  | { kind: 'cancel' }
  | { kind: 'compensated' }
  | { kind: 'compensationFailed'; stepIds: string[] };

export interface Decision {
  instance: SagaInstance;
  actions: SagaAction[];
}
