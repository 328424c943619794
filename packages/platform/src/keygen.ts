// `node packages/platform/src/keygen.ts <folder>`: the token keys of a deployment, made once, as
// files the services read through OMS_AUTH_SIGNING_KEY_FILE and OMS_AUTH_PUBLIC_KEYS_FILE (the
// Compose file's `keys` step). Keys already there are kept, so tokens survive a restart.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateAuthKeys } from './auth-keys.ts';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node keygen.ts <folder>   (writes signing-key.jwk and public-keys.json there, once)');
  process.exit(2);
}
const signing = join(dir, 'signing-key.jwk');
const publicKeys = join(dir, 'public-keys.json');
if (existsSync(signing) && existsSync(publicKeys)) {
  console.log(`token keys already in ${dir}`);
} else {
  mkdirSync(dir, { recursive: true });
  const keys = generateAuthKeys();
  // The services run as another user than this step may: readable by the group and others, in a
  // volume only the system's containers mount.
  writeFileSync(signing, `${keys.signingKey}\n`, { mode: 0o644 });
  writeFileSync(publicKeys, `${keys.publicKeys}\n`, { mode: 0o644 });
  console.log(`token keys written to ${dir}`);
}
