import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BaseConfig, ConfigError, loadConfig } from '../src/config.ts';

test('configuration converts types and applies defaults', () => {
  const config = loadConfig(BaseConfig, { PORT: '8081', DATABASE_URL: 'postgres://x/y' });
  assert.equal(config.PORT, 8081);
  assert.equal(config.KAFKA_BROKERS, '127.0.0.1:19092');
  assert.equal(config.LOG_LEVEL, 'info');
});

test('every configuration problem is reported at once', () => {
  assert.throws(
    () => loadConfig(BaseConfig, { PORT: 'eighty', LOG_LEVEL: 'loud' }),
    (e: unknown) => e instanceof ConfigError && /PORT/.test(e.message) && /DATABASE_URL/.test(e.message) && /LOG_LEVEL/.test(e.message),
  );
});
