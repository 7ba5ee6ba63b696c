// Access tokens (ES256 JWTs with Supabase's claims) and refresh tokens (GoTrue's 12-character
// form that lives in auth.refresh_tokens).
import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import { forbidden } from './errors.ts';

export interface AccessTokenSubject {
  id: string;
  aud: string;
  role: string;
  email: string;
  phone: string;
  appMetadata: Record<string, unknown>;
  userMetadata: Record<string, unknown>;
  isAnonymous: boolean;
}

export interface AccessTokenSession {
  id: string;
  /** When the user authenticated with a password: GoTrue's amr timestamp, kept across refreshes. */
  authenticatedAt: Date;
}

export interface AccessTokenClaims extends JWTPayload {
  sub?: string;
  role?: string;
  session_id?: string;
  is_anonymous?: boolean;
}

export interface TokenIssuer {
  sign(subject: AccessTokenSubject, session: AccessTokenSession): Promise<{ token: string; expiresAt: number }>;
  /** Verifies signature and expiry as GoTrue does (no audience check); failures are 403 bad_jwt. */
  verify(token: string): Promise<AccessTokenClaims>;
  readonly expirySeconds: number;
}

export async function createTokenIssuer(opts: {
  privateJwk: JWK;
  publicJwk: JWK;
  issuer: string;
  expirySeconds: number;
  /** The project's legacy JWT secret, while it has one: HS256 tokens signed with it still verify. */
  legacyJwtSecret?: string;
}): Promise<TokenIssuer> {
  const kid = opts.privateJwk.kid;
  if (!kid) throw new Error('the signing key needs a kid');
  const privateKey = await importJWK(opts.privateJwk, 'ES256');
  const publicKey = await importJWK(opts.publicJwk, 'ES256');
  const legacyKey = opts.legacyJwtSecret ? new TextEncoder().encode(opts.legacyJwtSecret) : null;
  // GoTrue verifies with every key the project has: the asymmetric signing key and, until it is
  // revoked, the legacy secret (the legacy anon / service_role keys are HS256 JWTs signed with it).
  const keyFor = (token: string) => {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      alg = undefined;
    }
    return alg === 'HS256' && legacyKey ? { key: legacyKey, algorithms: ['HS256'] } : { key: publicKey, algorithms: ['ES256'] };
  };

  return {
    expirySeconds: opts.expirySeconds,
    async sign(subject, session) {
      const issuedAt = Math.floor(Date.now() / 1000);
      const expiresAt = issuedAt + opts.expirySeconds;
      // Claim names and order as in GoTrue's AccessTokenClaims.
      const token = await new SignJWT({
        aud: subject.aud,
        exp: expiresAt,
        iat: issuedAt,
        iss: opts.issuer,
        sub: subject.id,
        email: subject.email,
        phone: subject.phone,
        app_metadata: subject.appMetadata,
        user_metadata: subject.userMetadata,
        role: subject.role,
        aal: 'aal1',
        amr: [{ method: 'password', timestamp: Math.floor(session.authenticatedAt.getTime() / 1000) }],
        session_id: session.id,
        is_anonymous: subject.isAnonymous,
      })
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
        .sign(privateKey);
      return { token, expiresAt };
    },
    async verify(token) {
      try {
        // A token without exp would never expire: GoTrue requires it (golang-jwt's
        // WithExpirationRequired), so a forged-lifetime token signed with a leaked key stays bounded.
        const { key, algorithms } = keyFor(token);
        const { payload } = await jwtVerify<AccessTokenClaims>(token, key, { algorithms, requiredClaims: ['exp'] });
        return payload;
      } catch (err) {
        const reason =
          err instanceof joseErrors.JWTExpired
            ? 'token has invalid claims: token is expired'
            : err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'exp' && err.reason === 'missing'
              ? 'token has invalid claims: token is missing required claim: exp claim is required'
              : err instanceof joseErrors.JOSEError
                ? err.message
                : 'malformed token';
        throw forbidden('bad_jwt', `invalid JWT: unable to parse or verify signature, ${reason}`);
      }
    },
  };
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** GoTrue's legacy refresh token: crypto-random, lower-case base32, 12 characters (60 bits). */
export function newRefreshToken(): string {
  const bytes = randomBytes(8);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.slice(0, 12);
}

/** The shape GoTrue accepts before it looks a refresh token up (RefreshTokenGrantParams.Validate). */
export function isWellFormedRefreshToken(token: string): boolean {
  return /^[a-z0-9]{12}$/.test(token);
}
