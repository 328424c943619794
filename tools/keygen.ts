// `npm run keygen`: a new Ed25519 key pair for access tokens, printed as the two settings a
// deployment passes in (e.g. as a Kubernetes Secret). To rotate: give the user service the new
// OMS_AUTH_SIGNING_KEY, and every service an OMS_AUTH_PUBLIC_KEYS holding the new public key and
// the old one, until tokens signed with the old key have expired (15 minutes); then drop the old.
import { generateAuthKeys } from '@oms/platform';

const keys = generateAuthKeys();
console.log(`OMS_AUTH_SIGNING_KEY='${keys.signingKey}'`);
console.log(`OMS_AUTH_PUBLIC_KEYS='${keys.publicKeys}'`);
