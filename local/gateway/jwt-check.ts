// The gateway's verify_jwt: a function that requires it only runs for a request whose bearer
// token is a JWT signed by this project's key, with an expiry, and not expired. Any role passes (the anon key is
// such a JWT), exactly as on hosted Supabase; the function itself decides what a role may do.
import { importJWK, jwtVerify, type JWK } from 'jose';

export type JwtVerdict = { ok: true } | { ok: false; message: string };

// A token that verified is remembered until it expires (bounded, oldest dropped first), so a
// client's later requests skip the ES256 check, which costs more CPU than proxying the request.
// Keyed by the whole token and only successes are kept, so nothing unverified is ever let through.
const VERIFIED_MAX = 5_000;

/** Imports the key up front, so a bad key stops the gateway at start-up, not on a request. */
export async function createJwtCheck(publicJwk: JWK, now: () => number = Date.now) {
  const key = await importJWK(publicJwk, 'ES256');
  const verifiedUntil = new Map<string, number>();

  return async (authorization: string | undefined): Promise<JwtVerdict> => {
    if (!authorization) return { ok: false, message: 'Missing authorization header' };
    const m = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!m) return { ok: false, message: 'Invalid authorization header, expected "Bearer <token>"' };
    const token = m[1];
    const until = verifiedUntil.get(token);
    if (until !== undefined) {
      if (now() < until) return { ok: true };
      verifiedUntil.delete(token);
      return { ok: false, message: 'JWT expired' };
    }
    try {
      // Only the project's asymmetric algorithm: `alg: none` and HS256 confusion are refused. A
      // token without exp would be valid forever, so exp is required.
      const { payload } = await jwtVerify(token, key, { algorithms: ['ES256'], requiredClaims: ['exp'], currentDate: new Date(now()) });
      if (verifiedUntil.size >= VERIFIED_MAX) verifiedUntil.delete(verifiedUntil.keys().next().value!);
      verifiedUntil.set(token, (payload.exp as number) * 1000);
      return { ok: true };
    } catch (err) {
      const code = (err as { code?: string }).code;
      return { ok: false, message: code === 'ERR_JWT_EXPIRED' ? 'JWT expired' : 'Invalid JWT' };
    }
  };
}
