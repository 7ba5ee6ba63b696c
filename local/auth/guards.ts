// GoTrue's request guards: who is calling, checked the way GoTrue checks it.
import type { IncomingMessage } from 'node:http';
import { badRequest, forbidden, unauthorized } from './errors.ts';
import type { AuthContext } from './handler.ts';
import { bearerToken } from './http.ts';
import { isUuid, NIL_UUID } from './params.ts';
import { findSession, type SessionRow } from './sessions.ts';
import type { AccessTokenClaims } from './tokens.ts';
import { findUserById, isBanned } from './users.ts';

/** GoTrue's requireAuthentication: a valid JWT whose user (and session, if named) still exist. */
export async function authenticate(ctx: AuthContext, req: IncomingMessage) {
  const token = bearerToken(req);
  if (!token) throw unauthorized('no_authorization', 'This endpoint requires a valid Bearer token');
  const claims = await ctx.tokens.verify(token);
  if (!claims.sub) throw forbidden('bad_jwt', 'invalid claim: missing sub claim');
  if (!isUuid(claims.sub)) throw badRequest('bad_jwt', 'invalid claim: sub claim must be a UUID');
  const user = await findUserById(ctx.sql, claims.sub);
  if (!user) throw forbidden('user_not_found', 'User from sub claim in JWT does not exist');
  const session = await sessionFromClaims(ctx, claims);
  if (isBanned(user)) throw forbidden('user_banned', 'User is banned');
  return { claims, user, session };
}

async function sessionFromClaims(ctx: AuthContext, claims: AccessTokenClaims): Promise<SessionRow | null> {
  const id = claims.session_id;
  if (!id || id === NIL_UUID) return null;
  if (!isUuid(id)) throw forbidden('bad_jwt', 'invalid claim: session_id claim must be a UUID');
  const session = await findSession(ctx.sql, id);
  if (!session) throw forbidden('session_not_found', 'Session from session_id claim in JWT does not exist');
  return session;
}

const ADMIN_ROLES = ['service_role', 'supabase_admin'];

/** GoTrue's requireAdminCredentials: a valid JWT with an admin role (the service-role key). */
export async function requireAdmin(ctx: AuthContext, req: IncomingMessage) {
  const token = bearerToken(req);
  if (!token) throw unauthorized('no_authorization', 'This endpoint requires a valid Bearer token');
  const claims = await ctx.tokens.verify(token);
  await sessionFromClaims(ctx, claims);
  if (!claims.role || !ADMIN_ROLES.includes(claims.role)) throw forbidden('not_admin', 'User not allowed');
}
