import Type from 'typebox';

export const OrderConfig = {
  /** Saga instances kept in the in-process cache in front of the saga table. */
  SAGA_CACHE_SIZE: Type.Integer({ minimum: 0, default: 10_000 }),
  /** How long a saga step may go unanswered before it fails with STEP_TIMEOUT and compensates. */
  SAGA_STEP_DEADLINE_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  /** How often the deadline sweeper looks for sagas past their deadline. */
  SAGA_SWEEP_INTERVAL_MS: Type.Integer({ minimum: 50, default: 1_000 }),
  /** Payment authorisation as a saga step (on by default). Off: validate ∥ reserve only. */
  OMS_PAYMENT_ENABLED: Type.Boolean({ default: true }),
};
