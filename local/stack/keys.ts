// The signing key of a local stack, generated once per data dir, and the anon / service-role
// API keys derived from it. Hosted Supabase signs with its own asymmetric key and publishes the
// public half at /auth/v1/.well-known/jwks.json; so does the local auth emulator.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import type { Profile } from '../profile.ts';

export interface StackKeys {
  privateJwk: JWK;
  publicJwk: JWK;
  anonKey: string;
  serviceRoleKey: string;
}

const TEN_YEARS = 10 * 365 * 24 * 3600;

export function keyFile(p: Profile) {
  return resolve(p.dataRoot, 'jwt-signing-key.json');
}

export async function signingKey(privateJwk: JWK) {
  return importJWK(privateJwk, 'ES256');
}

async function apiKey(privateJwk: JWK, role: 'anon' | 'service_role') {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role, iss: 'supabase-local', ref: 'local' })
    .setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid!, typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + TEN_YEARS)
    .sign(await signingKey(privateJwk));
}

/** Loads the stack's keys, creating them on first use; the file is mode 0600 and git-ignored. */
export async function loadOrCreateKeys(p: Profile): Promise<StackKeys> {
  const file = keyFile(p);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as StackKeys;
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = crypto.randomUUID();
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const keys: StackKeys = {
    privateJwk,
    publicJwk,
    anonKey: await apiKey(privateJwk, 'anon'),
    serviceRoleKey: await apiKey(privateJwk, 'service_role'),
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}
