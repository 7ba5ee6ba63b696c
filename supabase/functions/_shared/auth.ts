// Who is calling: user tokens are verified against the project's JWKS (issuer and audience
// checked); the service role is recognised by its key, compared in constant time, because
// hosted projects may sign it with a key that is not in the JWKS.
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
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

let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

function keySet() {
  jwks ??= createRemoteJWKSet(new URL(`${env().SUPABASE_URL}/auth/v1/.well-known/jwks.json`), {
    cooldownDuration: 30_000,
    cacheMaxAge: 10 * 60_000,
  });
  return jwks;
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

export function isServiceRole(req: Request): boolean {
  const token = bearerToken(req);
  return token !== null && constantTimeEqual(token, env().SUPABASE_SERVICE_ROLE_KEY);
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
