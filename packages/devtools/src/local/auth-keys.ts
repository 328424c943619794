import { fromSigningKey, generateAuthKeys, type AuthKeys } from '@oms/platform';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export { fromSigningKey, generateAuthKeys, type AuthKeys };

/**
 * `npm start`'s keys: made on first start and kept in `<dataDir>/auth/signing-key.jwk.json`
 * (0600, in a 0700 folder), so tokens survive a restart. When OMS_AUTH_SIGNING_KEY and
 * OMS_AUTH_PUBLIC_KEYS are set, those are used instead (a deployment's own, or a rotation).
 */
export function localAuthKeys(dataDir: string, env: NodeJS.ProcessEnv = process.env): AuthKeys & { file?: string } {
  if (env.OMS_AUTH_SIGNING_KEY || env.OMS_AUTH_PUBLIC_KEYS) {
    if (!env.OMS_AUTH_SIGNING_KEY || !env.OMS_AUTH_PUBLIC_KEYS) throw new Error('set both OMS_AUTH_SIGNING_KEY and OMS_AUTH_PUBLIC_KEYS, or neither (npm start then makes a key pair in the data folder)');
    return { signingKey: env.OMS_AUTH_SIGNING_KEY, publicKeys: env.OMS_AUTH_PUBLIC_KEYS };
  }
  const dir = join(dataDir, 'auth');
  const file = join(dir, 'signing-key.jwk.json');
  if (existsSync(file)) return { ...fromSigningKey(readFileSync(file, 'utf8').trim()), file };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const keys = generateAuthKeys();
  writeFileSync(file, `${keys.signingKey}\n`, { mode: 0o600, flag: 'wx' });
  return { ...keys, file };
}
