import Type from 'typebox';

export const OrderConfig = {
  /** Saga instances kept in the in-process cache in front of the saga table. */
  SAGA_CACHE_SIZE: Type.Integer({ minimum: 0, default: 10_000 }),
  /** Payment authorisation as a saga step (on by default). Off: validate ∥ reserve only. */
  OMS_PAYMENT_ENABLED: Type.Boolean({ default: true }),
};
