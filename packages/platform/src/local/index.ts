export * from './ports.ts';
export * from './kafka.ts';
export * from './postgres.ts';
