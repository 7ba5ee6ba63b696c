// What every endpoint shares: the context it runs in, its reply, the session response, and how
// database failures surface (as GoTrue lets them).
import type { IncomingMessage } from 'node:http';
import type { JWK } from 'jose';
import postgres from 'postgres';
import type { AuthConfig } from './config.ts';
import { AuthHttpError, unexpectedFailure } from './errors.ts';
import type { Mailer } from './mailer.ts';
import type { Limiters } from './rate-limits.ts';
import type { SessionRow } from './sessions.ts';
import type { TokenIssuer } from './tokens.ts';
import { tokenSubject, userJson, type Pool, type UserRow } from './users.ts';

export interface AuthContext {
  sql: Pool;
  tokens: TokenIssuer;
  publicJwk: JWK;
  refreshTokenReuseIntervalSeconds: number;
  config: AuthConfig;
  limiters: Limiters;
  mailer: Mailer;
  /** `${SUPABASE_URL}/auth/v1`: where GoTrue's own links (/verify) point. */
  externalUrl: string;
}

export interface RouteRequest {
  req: IncomingMessage;
  url: URL;
  /** Path parameters, e.g. { id } for /admin/users/:id. */
  params: Record<string, string>;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (ctx: AuthContext, rq: RouteRequest) => Promise<Reply>;

export const ok = (body: unknown, headers?: Record<string, string>): Reply => ({ status: 200, body, headers });

export async function sessionReply(ctx: AuthContext, user: UserRow, session: SessionRow, refreshToken: string, extra = {}) {
  const { token, expiresAt } = await ctx.tokens.sign(tokenSubject(user), {
    id: session.id,
    authenticatedAt: session.created_at,
  });
  return ok({
    access_token: token,
    token_type: 'bearer',
    expires_in: expiresAt - Math.floor(Date.now() / 1000),
    expires_at: expiresAt,
    refresh_token: refreshToken,
    user: userJson(user),
    ...extra,
  });
}

export const isUniqueViolation = (err: unknown) => err instanceof postgres.PostgresError && err.code === '23505';

/**
 * GoTrue answers a failing write (e.g. a trigger on auth.users refusing it) with a 500 that names
 * the operation and hides the database's message; the message goes to the log instead.
 */
export async function databaseWrite<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AuthHttpError || isUniqueViolation(err)) throw err;
    console.error(`auth: ${what}: ${(err as Error)?.message ?? String(err)}`);
    throw unexpectedFailure(what);
  }
}
