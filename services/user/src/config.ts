import Type from 'typebox';

export const UserConfig = {
  /** Insert the demo users on start (idempotent). */
  OMS_DEMO_DATA: Type.Boolean({ default: false }),
};
