// The gateway's verify_jwt: a function that requires it only runs for a request whose bearer
// token is a JWT signed by one of this project's keys (the asymmetric signing key, or the legacy
// JWT secret while the project has it), with an expiry, and not expired. Any role passes (the
// legacy anon key is such a JWT), exactly as on hosted Supabase; the function itself decides what
// a role may do. The opaque sb_ keys are not JWTs and never pass.
import { decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';

export type JwtVerdict = { ok: true } | { ok: false; message: string };

// A token that verified is remembered until it expires (bounded, oldest dropped first), so a
// client's later requests skip the ES256 check, which costs more CPU than proxying the request.
// Keyed by the whole token and only successes are kept, so nothing unverified is ever let through.
const VERIFIED_MAX = 5_000;

/** Imports the key up front, so a bad key stops the gateway at start-up, not on a request. */
export async function createJwtCheck(publicJwk: JWK, now: () => number = Date.now, legacyJwtSecret?: string) {
  const key = await importJWK(publicJwk, 'ES256');
  const legacyKey = legacyJwtSecret ? new TextEncoder().encode(legacyJwtSecret) : null;
  const isHs256 = (token: string) => {
    try {
      return decodeProtectedHeader(token).alg === 'HS256';
    } catch {
      return false;
    }
  };
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
      // Each key with its own algorithm only: `alg: none` and an HS256 token "signed" with the
      // public key are refused. A token without exp would be valid forever, so exp is required.
      const options = { requiredClaims: ['exp'], currentDate: new Date(now()) };
      const { payload } =
        legacyKey && isHs256(token)
          ? await jwtVerify(token, legacyKey, { ...options, algorithms: ['HS256'] })
          : await jwtVerify(token, key, { ...options, algorithms: ['ES256'] });
      if (verifiedUntil.size >= VERIFIED_MAX) verifiedUntil.delete(verifiedUntil.keys().next().value!);
      verifiedUntil.set(token, (payload.exp as number) * 1000);
      return { ok: true };
    } catch (err) {
      const code = (err as { code?: string }).code;
      return { ok: false, message: code === 'ERR_JWT_EXPIRED' ? 'JWT expired' : 'Invalid JWT' };
    }
  };
}
