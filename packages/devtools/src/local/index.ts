// Kafka and PostgreSQL run on this machine for npm start and the tests (no Docker, no installs
// beyond a JDK and Maven for Kafka).
export { assertPortFree, findFreePort } from './ports.ts';
export { ensureKafkaJars, startLocalKafka } from './kafka.ts';
export type { LocalKafka, LocalKafkaOptions } from './kafka.ts';
export { closedAncestor, reachableBase, startLocalPostgres } from './postgres.ts';
export type { LocalPostgres, LocalPostgresOptions } from './postgres.ts';
export { fromSigningKey, generateAuthKeys, localAuthKeys } from './auth-keys.ts';
export type { AuthKeys } from './auth-keys.ts';
export { startMailCatcher } from './mail-catcher.ts';
export type { CaughtMail, MailCatcher } from './mail-catcher.ts';
export { startOtlpReceiver } from './otlp-receiver.ts';
export type { OtlpReceiver, ReceivedSpan } from './otlp-receiver.ts';
