export * from './catalog.ts';
export * from './gateway.ts';
export * from './system.ts';
export * from './harness.ts';
