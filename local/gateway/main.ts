import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from '../profile.ts';
import { activeKeys, apiKeyMode, type StackKeys } from '../stack/keys.ts';
import { readVerifyJwt } from './function-config.ts';
import { createGateway } from './server.ts';

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`gateway: ${name} is not set`);
  return v;
}

const keys = JSON.parse(readFileSync(required('LOCAL_KEY_FILE'), 'utf8')) as StackKeys;
const active = activeKeys(keys, apiKeyMode());
const gateway = await createGateway({
  port: Number(required('LOCAL_GATEWAY_PORT')),
  authUrl: required('LOCAL_AUTH_URL'),
  functionsUrl: required('LOCAL_FUNCTIONS_URL'),
  publicJwk: keys.publicJwk,
  privateJwk: keys.privateJwk,
  apiKeys: {
    publishableKeys: active.publishable ? [active.publishable] : [],
    secretKeys: active.secret ? [active.secret] : [],
    legacyJwtSecret: active.legacyJwtSecret,
  },
  verifyJwt: readVerifyJwt(resolve(ROOT, 'supabase', 'config.toml')),
});
console.log(`gateway: listening on ${gateway.url}`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, async () => {
    await gateway.close();
    process.exit(0);
  });
}
