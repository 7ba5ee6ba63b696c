// Starts the auth emulator with the stack's env (local/stack/env.ts) and stops it cleanly on
// SIGTERM/SIGINT, so the supervisor can restart it without leaking database connections.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { activeKeys, apiKeyMode, type StackKeys } from '../stack/keys.ts';
import { createAuthServer } from './server.ts';

const Env = z.object({
  LOCAL_AUTH_PORT: z.coerce.number().int().min(0).max(65535),
  SUPABASE_DB_URL: z.string().min(1),
  LOCAL_KEY_FILE: z.string().min(1),
  SUPABASE_URL: z.url(),
  LOCAL_SMTP_HOST: z.string().min(1),
  LOCAL_SMTP_PORT: z.coerce.number().int().min(1).max(65535),
});

const Jwk = z.looseObject({ kty: z.literal('EC'), crv: z.literal('P-256'), kid: z.string().min(1) });
const KeyFile = z.object({
  privateJwk: Jwk.extend({ d: z.string().min(1) }),
  publicJwk: Jwk,
  legacyJwtSecret: z.string().min(32),
  anonKey: z.string().min(1),
  serviceRoleKey: z.string().min(1),
  publishableKey: z.string().startsWith('sb_publishable_'),
  secretKey: z.string().startsWith('sb_secret_'),
});

const env = Env.safeParse(process.env);
if (!env.success) {
  console.error(`auth: missing or invalid env: ${env.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  process.exit(1);
}
const { LOCAL_AUTH_PORT, SUPABASE_DB_URL, LOCAL_KEY_FILE, SUPABASE_URL, LOCAL_SMTP_HOST, LOCAL_SMTP_PORT } = env.data;

function readKeyFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    console.error(`auth: cannot read ${path}: ${(err as Error).message}`);
    return process.exit(1);
  }
}

const keys = KeyFile.safeParse(readKeyFile(LOCAL_KEY_FILE));
if (!keys.success) {
  console.error(`auth: ${LOCAL_KEY_FILE} is not a stack key file`);
  process.exit(1);
}

const issuer = `${SUPABASE_URL.replace(/\/+$/, '')}/auth/v1`;
const server = await createAuthServer({
  port: LOCAL_AUTH_PORT,
  dbUrl: SUPABASE_DB_URL,
  keys: keys.data as StackKeys,
  issuer,
  legacyJwtSecret: activeKeys(keys.data as StackKeys, apiKeyMode()).legacyJwtSecret,
  smtp: { host: LOCAL_SMTP_HOST, port: LOCAL_SMTP_PORT },
});
console.log(`auth emulator listening on ${server.url} (issuer ${issuer})`);

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  try {
    await server.close();
    process.exit(0);
  } catch (err) {
    console.error(`auth: error while stopping on ${signal}: ${(err as Error).message}`);
    process.exit(1);
  }
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
