import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BaseConfig, ConfigError, loadConfig } from '../src/config.ts';

test('configuration converts types and applies defaults', () => {
  const config = loadConfig(BaseConfig, { PORT: '8081', DATABASE_URL: 'postgres://x/y', OMS_AUTH_PUBLIC_KEYS: '{"keys":[]}' });
  assert.equal(config.PORT, 8081);
  assert.equal(config.OMS_AUTH_ISSUER, 'oms');
  assert.equal(config.KAFKA_BROKERS, '127.0.0.1:19092');
  assert.equal(config.LOG_LEVEL, 'info');
});

test('every configuration problem is reported at once', () => {
  assert.throws(
    () => loadConfig(BaseConfig, { PORT: 'eighty', LOG_LEVEL: 'loud' }),
    (e: unknown) => e instanceof ConfigError && /PORT/.test(e.message) && /DATABASE_URL/.test(e.message) && /LOG_LEVEL/.test(e.message),
  );
});

test('the token keys have no default: a service without them does not start', () => {
  assert.throws(
    () => loadConfig(BaseConfig, { PORT: '8081', DATABASE_URL: 'postgres://x/y' }),
    (e: unknown) => e instanceof ConfigError && /OMS_AUTH_PUBLIC_KEYS must be set/.test(e.message),
  );
});
