// Who is calling. Functions verify callers themselves (verify_jwt = false in supabase/config.toml,
// Supabase's guidance with the new API keys), from two headers:
// - `apikey`: the secret key (SUPABASE_SECRET_KEYS) makes the call a service call (workers woken
//   by pg_cron, other services); the legacy service_role key (SUPABASE_SERVICE_ROLE_KEY) too,
//   while the project has it, in `apikey` or as the bearer token (how legacy wake-ups send it).
//   Keys are compared in constant time; a publishable or anon key grants nothing by itself.
// - `Authorization: Bearer <user JWT>`: verified against the project's JWKS (SUPABASE_JWKS when
//   the platform gives it, otherwise fetched from Auth and cached), issuer and audience checked.
//   An opaque sb_ key is never a user token, whichever header it is in.
// Legacy HS256 user tokens are refused here: the JWT secret is not given to functions, and Auth
// has signed with the asymmetric key since the project moved to signing keys.
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { env } from './env.ts';
import { HttpError } from './http.ts';

export interface Claims extends JWTPayload {
  sub: string;
  role: string;
  email?: string;
  app_metadata?: { role?: string; [k: string]: unknown };
  user_metadata?: Record<string, unknown>;
  session_id?: string;
}

type KeySet = ReturnType<typeof createLocalJWKSet> | ReturnType<typeof createRemoteJWKSet>;
let jwks: KeySet | undefined;

// Built once per isolate: an inline JWKS costs no request at all, a fetched one is cached (10
// minutes, refetched at most every 30 s when a token names a kid it does not know: a rotation).
function keySet(): KeySet {
  const inline = env().SUPABASE_JWKS;
  jwks ??= inline
    ? createLocalJWKSet(inline as unknown as JSONWebKeySet)
    : createRemoteJWKSet(new URL(`${env().SUPABASE_URL}/auth/v1/.well-known/jwks.json`), {
        cooldownDuration: 30_000,
        cacheMaxAge: 10 * 60_000,
      });
  return jwks;
}

let secrets: { modern: string[]; legacy: string | null } | undefined;

function serviceKeys() {
  secrets ??= { modern: Object.values(env().SUPABASE_SECRET_KEYS ?? {}), legacy: env().SUPABASE_SERVICE_ROLE_KEY ?? null };
  return secrets;
}

/** The key a function sends when it calls the platform as the service (Auth's admin API). */
export function serviceKey(): string {
  const { modern, legacy } = serviceKeys();
  const key = modern[0] ?? legacy;
  if (!key) throw new Error('no service key configured');
  return key;
}

export function bearerToken(req: Request): string | null {
  const h = req.headers.get('authorization') ?? '';
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m ? m[1] : null;
}

export function unauthorized(message = 'a valid user access token is required') {
  return new HttpError(401, 'unauthorized', message);
}

// A verified token's claims are remembered until it expires (bounded), so a client's later
// requests skip the ES256 signature check (0.3 ms of CPU each in Deno). Only successes are kept,
// keyed by the whole token, so nothing unverified is ever trusted.
const VERIFIED_MAX = 5_000;
const verified = new Map<string, Claims>();

function rememberVerified(token: string, claims: Claims) {
  if (verified.size >= VERIFIED_MAX) {
    const oldest = verified.keys().next().value;
    if (oldest !== undefined) verified.delete(oldest);
  }
  verified.set(token, claims);
}

export async function requireUser(req: Request): Promise<Claims> {
  const token = bearerToken(req);
  if (!token) throw unauthorized();
  if (token.startsWith('sb_')) throw unauthorized('an API key is not a user access token; send it in the apikey header');
  const known = verified.get(token);
  if (known) {
    if ((known.exp ?? 0) * 1000 > Date.now()) return known;
    verified.delete(token);
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keySet(), {
      issuer: `${env().SUPABASE_URL}/auth/v1`,
      audience: 'authenticated',
      algorithms: ['ES256', 'RS256'],
      // Without exp a token would never expire (and could not be remembered until it does).
      requiredClaims: ['exp', 'sub'],
    }));
  } catch {
    throw unauthorized('access token is invalid or expired');
  }
  if (typeof payload.sub !== 'string' || payload.role !== 'authenticated') throw unauthorized();
  rememberVerified(token, payload as Claims);
  return payload as Claims;
}

export async function requireAdmin(req: Request): Promise<Claims> {
  const claims = await requireUser(req);
  if (claims.app_metadata?.role !== 'admin') {
    throw new HttpError(403, 'forbidden', 'platform administrators only');
  }
  return claims;
}

const matchesAny = (value: string, keys: string[]) => keys.reduce((hit, key) => constantTimeEqual(value, key) || hit, false);

/**
 * A service call: a secret key in `apikey` (with no bearer, or the key itself as the bearer, as
 * supabase-js sends a key), or the legacy service_role key in `apikey` or as the bearer.
 */
export function isServiceRole(req: Request): boolean {
  const { modern, legacy } = serviceKeys();
  const apikey = req.headers.get('apikey');
  const bearer = bearerToken(req);
  const keyOnly = bearer === null || bearer === apikey;
  if (apikey && keyOnly && matchesAny(apikey, legacy ? [...modern, legacy] : modern)) return true;
  return legacy !== null && bearer !== null && constantTimeEqual(bearer, legacy);
}

export function requireServiceRole(req: Request): void {
  if (!isServiceRole(req)) throw new HttpError(401, 'unauthorized', 'service role key required');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
