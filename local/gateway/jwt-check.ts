// The gateway's verify_jwt: a function that requires it only runs for a request whose bearer
// token is a JWT signed by this project's key and not expired. Any role passes (the anon key is
// such a JWT), exactly as on hosted Supabase; the function itself decides what a role may do.
import { importJWK, jwtVerify, type JWK } from 'jose';

export type JwtVerdict = { ok: true } | { ok: false; message: string };

/** Imports the key up front, so a bad key stops the gateway at start-up, not on a request. */
export async function createJwtCheck(publicJwk: JWK) {
  const key = await importJWK(publicJwk, 'ES256');
  return async (authorization: string | undefined): Promise<JwtVerdict> => {
    if (!authorization) return { ok: false, message: 'Missing authorization header' };
    const m = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!m) return { ok: false, message: 'Invalid authorization header, expected "Bearer <token>"' };
    try {
      // Only the project's asymmetric algorithm: `alg: none` and HS256 confusion are refused.
      await jwtVerify(m[1], key, { algorithms: ['ES256'] });
      return { ok: true };
    } catch (err) {
      const code = (err as { code?: string }).code;
      return { ok: false, message: code === 'ERR_JWT_EXPIRED' ? 'JWT expired' : 'Invalid JWT' };
    }
  };
}
