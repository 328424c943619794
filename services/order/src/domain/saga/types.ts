import type { FailureReason, MessageDefinition } from '@oms/contracts';

/** One step of a saga, declared as data: what to ask, how to undo it, and which steps run together. */
export interface StepDefinition {
  /** Stable id, stored in saga instances: never rename one that has run. */
  readonly id: string;
  /** Steps with the same stage run in parallel; stages run in order. */
  readonly stage: number;
  readonly command: MessageDefinition;
  readonly reply: MessageDefinition;
  readonly compensation?: { readonly command: MessageDefinition; readonly reply: MessageDefinition };
  /** How long the participant has to answer; the runtime default applies when absent. */
  readonly deadlineMs?: number;
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

export type StepStatus = 'PENDING' | 'WAITING' | 'SUCCEEDED' | 'FAILED' | 'COMPENSATING' | 'COMPENSATED';
/** COMPENSATING ends FAILED; CANCELLING (a cancel request) ends CANCELLED. */
export type SagaState = 'RUNNING' | 'COMPENSATING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLING' | 'CANCELLED';

export interface StepState {
  status: StepStatus;
  reasons: FailureReason[];
}

export interface SagaInstance {
  orderId: string;
  definition: string;
  definitionVersion: number;
  state: SagaState;
  steps: Record<string, StepState>;
  /** When the running stage must have answered (epoch ms); null once the saga is no longer waiting. */
  deadlineAt: number | null;
  /** Optimistic concurrency: bumped on every write. */
  version: number;
}

/** Clock and default deadline for the engine's decisions (passed in: the engine stays pure). */
export interface Timing {
  now: number;
  defaultDeadlineMs: number;
}

/** What the orchestrator must do after a decision. */
export type SagaAction =
  | { kind: 'invoke'; stepId: string }
  | { kind: 'compensate'; stepId: string }
  | { kind: 'succeed' }
  | { kind: 'fail'; reasons: FailureReason[] }
  | { kind: 'cancel' }
  | { kind: 'compensated' };

export interface Decision {
  instance: SagaInstance;
  actions: SagaAction[];
}
