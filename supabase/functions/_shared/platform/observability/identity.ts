// Who sent a request, as far as rate limits, tracking and the response cache need to know: the
// service role, a verified user, or nobody. User tokens are verified exactly as routes verify
// them (requireUser); the verdict is remembered per token until it expires, so a client's
// second and later requests cost a map lookup instead of a signature check.
import { bearerToken, isServiceRole, requireUser, type Claims } from '../auth.ts';

export type Identity = { kind: 'anonymous' } | { kind: 'service' } | { kind: 'user'; userId: string; claims: Claims };

export const ANONYMOUS: Identity = { kind: 'anonymous' };
const SERVICE: Identity = { kind: 'service' };

const MAX_REMEMBERED = 2_000;
const REMEMBER_MS = 10 * 60_000;
// A token that failed verification is retried after this long (the JWKS may have been unreachable).
const REMEMBER_FAILURE_MS = 60_000;

const remembered = new Map<string, { identity: Identity; until: number }>();

function remember(token: string, identity: Identity, until: number) {
  if (remembered.size >= MAX_REMEMBERED) {
    const oldest = remembered.keys().next().value;
    if (oldest !== undefined) remembered.delete(oldest);
  }
  remembered.set(token, { identity, until });
}

export async function identify(req: Request): Promise<Identity> {
  // First, and never remembered: a secret key may come in `apikey` with no bearer at all.
  if (isServiceRole(req)) return SERVICE;
  const token = bearerToken(req);
  if (!token) return ANONYMOUS;
  const now = Date.now();
  const known = remembered.get(token);
  if (known && known.until > now) return known.identity;
  try {
    const claims = await requireUser(req);
    const identity: Identity = { kind: 'user', userId: claims.sub, claims };
    remember(token, identity, Math.min(now + REMEMBER_MS, (claims.exp ?? 0) * 1000));
    return identity;
  } catch {
    remember(token, ANONYMOUS, now + REMEMBER_FAILURE_MS);
    return ANONYMOUS;
  }
}
