export * from './envelope.ts';
export * from './topics.ts';
export * from './codes.ts';
export * from './messages.ts';
export * from './registry.ts';
export * from './auth.ts';
