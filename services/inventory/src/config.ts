import Type from 'typebox';

export const InventoryConfig = {
  /** Insert the demo products on start (idempotent). */
  OMS_DEMO_DATA: Type.Boolean({ default: false }),
};
