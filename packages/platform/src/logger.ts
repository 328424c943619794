import { pino, type Logger } from 'pino';
import { logFields } from './telemetry.ts';

export type { Logger };

/**
 * Structured JSON logs, one line per event, tagged with the service name; a line written while a
 * request or message is handled carries its order id and trace id (see telemetry.ts).
 */
export function createLogger(service: string, level = 'info'): Logger {
  return pino({ name: service, level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime, mixin: () => logFields() });
}
