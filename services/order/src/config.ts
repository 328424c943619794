import Type from 'typebox';

export const OrderConfig = {
  /** Saga instances kept in the in-process cache in front of the saga table. */
  SAGA_CACHE_SIZE: Type.Integer({ minimum: 0, default: 10_000 }),
};
