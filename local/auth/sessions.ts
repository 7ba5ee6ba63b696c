// Sessions and rotating refresh tokens in GoTrue's tables (auth.sessions, auth.refresh_tokens),
// following GoTrue's rules for the legacy (table-backed) refresh tokens:
//  - every refresh revokes the presented token and issues a child (parent = presented token);
//  - presenting the parent of the session's active token again returns that active token
//    (the client lost the previous response), without rotating;
//  - presenting any other revoked token within refresh_token_reuse_interval rotates from it;
//    after that interval it is treated as theft: every token of the session is revoked and the
//    request fails with refresh_token_already_used.
import { AuthHttpError, badRequest } from './errors.ts';
import { newRefreshToken } from './tokens.ts';
import { findUserById, isBanned, touchLastSignIn, type Pool, type Sql, type UserRow } from './users.ts';

export interface SessionRow {
  id: string;
  user_id: string;
  created_at: Date;
  not_after: Date | null;
}

interface RefreshTokenRow {
  id: string;
  token: string;
  user_id: string | null;
  revoked: boolean;
  updated_at: Date;
  parent: string | null;
  session_id: string | null;
}

export async function findSession(sql: Sql, id: string): Promise<SessionRow | null> {
  const [row] = await sql<SessionRow[]>`select id, user_id, created_at, not_after from auth.sessions where id = ${id}`;
  return row ?? null;
}

async function insertRefreshToken(tx: Sql, userId: string, sessionId: string, parent: string | null) {
  const token = newRefreshToken();
  await tx`
    insert into auth.refresh_tokens (token, user_id, revoked, parent, session_id, created_at, updated_at)
    values (${token}, ${userId}, false, ${parent}, ${sessionId}, now(), now())`;
  return token;
}

/** A password sign-in (or sign-up with autoconfirm): new session, first refresh token, last_sign_in_at. */
export async function startSession(tx: Sql, userId: string) {
  const [session] = await tx<SessionRow[]>`
    insert into auth.sessions (id, user_id, created_at, updated_at)
    values (gen_random_uuid(), ${userId}, now(), now())
    returning id, user_id, created_at, not_after`;
  const refreshToken = await insertRefreshToken(tx, userId, session!.id, null);
  await touchLastSignIn(tx, userId);
  return { session: session!, refreshToken };
}

export interface RefreshOutcome {
  user: UserRow;
  session: SessionRow;
  refreshToken: string;
}

/** Runs a refresh_token grant in one transaction; see the rules at the top of this file. */
export async function refreshSession(sql: Pool, presented: string, reuseIntervalSeconds: number): Promise<RefreshOutcome> {
  // A detected reuse must commit the family revocation and still fail the request.
  const deferred: { failure?: AuthHttpError } = {};
  const outcome = await sql.begin(async (tx) => {
    const notFound = () => badRequest('refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
    const [found] = await tx<Pick<RefreshTokenRow, 'id' | 'session_id'>[]>`
      select id, session_id from auth.refresh_tokens where token = ${presented}`;
    if (!found) throw notFound();
    // Session first, then token: the order in which deleting a session (sign-out) locks them.
    const [session] = found.session_id
      ? await tx<SessionRow[]>`
          select id, user_id, created_at, not_after from auth.sessions where id = ${found.session_id} for update`
      : [];
    const [token] = await tx<RefreshTokenRow[]>`
      select id, token, user_id, revoked, updated_at, parent, session_id
      from auth.refresh_tokens where id = ${found.id} for update`;
    if (!token) throw notFound();

    const user = token.user_id ? await findUserById(tx, token.user_id) : null;
    if (!user) throw notFound();
    if (isBanned(user)) throw badRequest('user_banned', 'Invalid Refresh Token: User Banned');

    if (!session) {
      await tx`delete from auth.refresh_tokens where id = ${token.id}`;
      deferred.failure = badRequest('session_not_found', 'Invalid Refresh Token: No Valid Session Found');
      return null;
    }
    if (session.not_after && session.not_after.getTime() < Date.now()) {
      throw badRequest('session_expired', 'Invalid Refresh Token: Session Expired');
    }

    let issued: string | null = null;
    if (token.revoked) {
      const [active] = await tx<RefreshTokenRow[]>`
        select id, token, user_id, revoked, updated_at, parent, session_id
        from auth.refresh_tokens where session_id = ${session.id} and revoked = false
        order by id desc limit 1`;
      if (active && active.parent === token.token) {
        issued = active.token;
      } else if (Date.now() > token.updated_at.getTime() + reuseIntervalSeconds * 1000) {
        await tx`
          update auth.refresh_tokens set revoked = true, updated_at = now()
          where session_id = ${session.id} and revoked = false`;
        deferred.failure = badRequest('refresh_token_already_used', 'Invalid Refresh Token: Already Used');
        return null;
      }
    }
    if (!issued) {
      await tx`update auth.refresh_tokens set revoked = true, updated_at = now() where id = ${token.id}`;
      issued = await insertRefreshToken(tx, user.id, session.id, token.token);
    }
    await tx`update auth.sessions set updated_at = now() where id = ${session.id}`;
    return { user, session, refreshToken: issued };
  });
  if (deferred.failure) throw deferred.failure;
  if (!outcome) throw new Error('refresh transaction ended without an outcome');
  return outcome;
}

export type LogoutScope = 'global' | 'local' | 'others';

/** GoTrue's Logout: sessions are deleted; their refresh tokens go with them (on delete cascade). */
export async function endSessions(sql: Sql, scope: LogoutScope, userId: string, sessionId: string | null) {
  if (sessionId && scope === 'local') {
    await sql`delete from auth.sessions where id = ${sessionId}`;
  } else if (sessionId && scope === 'others') {
    await sql`delete from auth.sessions where user_id = ${userId} and id <> ${sessionId}`;
  } else {
    await sql`delete from auth.sessions where user_id = ${userId}`;
  }
}
