// The keys of a local stack, generated once per data dir (mode 0600, git-ignored), as a hosted
// project created today has them:
// - an asymmetric JWT signing key (ES256, with a kid) that signs user access tokens; its public
//   half is the JWKS at /auth/v1/.well-known/jwks.json;
// - the opaque API keys: a publishable key (sb_publishable_…, role anon) and a secret key
//   (sb_secret_…, role service_role);
// - the legacy pair: the project's JWT secret (HS256) and the anon / service_role JWTs signed
//   with it, accepted while the project still has them.
// CCE_API_KEYS picks which of the API keys the stack offers (apiKeyMode below).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import type { Profile } from '../profile.ts';

export interface StackKeys {
  privateJwk: JWK;
  publicJwk: JWK;
  /** Legacy JWT secret (HS256): signs the anon and service_role keys below. */
  legacyJwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
  publishableKey: string;
  secretKey: string;
}

/**
 * Which API keys the project has: `both` (default) is a project that has the new keys and still
 * the legacy ones; `legacy` one that never created the new keys; `new` one that disabled the
 * legacy keys. Clients (web app, tests, tools) use the new keys whenever the project has them.
 */
export type ApiKeyMode = 'both' | 'legacy' | 'new';

export function apiKeyMode(value = process.env.CCE_API_KEYS): ApiKeyMode {
  const mode = value?.trim() || 'both';
  if (mode !== 'both' && mode !== 'legacy' && mode !== 'new') throw new Error(`CCE_API_KEYS must be both, legacy or new (got "${mode}")`);
  return mode;
}

/** The keys a project in that mode accepts (absent ones are unknown to it, as if never made). */
export interface ActiveKeys {
  publishable?: string;
  secret?: string;
  anon?: string;
  serviceRole?: string;
  legacyJwtSecret?: string;
}

export function activeKeys(keys: StackKeys, mode: ApiKeyMode): ActiveKeys {
  const modern = mode !== 'legacy' ? { publishable: keys.publishableKey, secret: keys.secretKey } : {};
  const legacy = mode !== 'new' ? { anon: keys.anonKey, serviceRole: keys.serviceRoleKey, legacyJwtSecret: keys.legacyJwtSecret } : {};
  return { ...modern, ...legacy };
}

const TEN_YEARS = 10 * 365 * 24 * 3600;
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function keyFile(p: Profile) {
  return resolve(p.dataRoot, 'jwt-signing-key.json');
}

export async function signingKey(privateJwk: JWK) {
  return importJWK(privateJwk, 'ES256');
}

function randomBase62(length: number): string {
  // 248 is the largest multiple of 62 below 256: bytes above it are skipped, so no bias.
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** An opaque API key in hosted's shape: a prefix naming its kind, then random characters. */
export function opaqueKey(kind: 'publishable' | 'secret'): string {
  return `sb_${kind}_${randomBase62(31)}`;
}

/** A legacy API key: an HS256 JWT signed with the project's JWT secret, as hosted issued them. */
export async function legacyApiKey(secret: string, role: 'anon' | 'service_role') {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role, iss: 'supabase', ref: 'local' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + TEN_YEARS)
    .sign(new TextEncoder().encode(secret));
}

async function legacyAndOpaque(): Promise<Omit<StackKeys, 'privateJwk' | 'publicJwk'>> {
  const legacyJwtSecret = randomBase62(48);
  return {
    legacyJwtSecret,
    anonKey: await legacyApiKey(legacyJwtSecret, 'anon'),
    serviceRoleKey: await legacyApiKey(legacyJwtSecret, 'service_role'),
    publishableKey: opaqueKey('publishable'),
    secretKey: opaqueKey('secret'),
  };
}

/**
 * Loads the stack's keys, creating them on first use. A data dir made before the new API keys
 * keeps its signing key (sessions stay valid) and gains the legacy JWT secret and opaque keys;
 * its old ES256-signed anon / service_role keys are replaced by HS256 ones, as hosted has them.
 */
export async function loadOrCreateKeys(p: Profile): Promise<StackKeys> {
  const file = keyFile(p);
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<StackKeys> & Pick<StackKeys, 'privateJwk' | 'publicJwk'>;
    if (stored.legacyJwtSecret && stored.publishableKey && stored.secretKey) return stored as StackKeys;
    const upgraded: StackKeys = { privateJwk: stored.privateJwk, publicJwk: stored.publicJwk, ...(await legacyAndOpaque()) };
    writeFileSync(file, JSON.stringify(upgraded, null, 2), { mode: 0o600 });
    return upgraded;
  }
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = crypto.randomUUID();
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const keys: StackKeys = { privateJwk, publicJwk, ...(await legacyAndOpaque()) };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}
