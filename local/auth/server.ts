// The local auth emulator: a GoTrue-compatible HTTP server for the endpoints supabase-js uses.
// The gateway strips /auth/v1 and forwards here, as Kong does for GoTrue, so routes sit at the root.
import http from 'node:http';
import { resolve } from 'node:path';
import { ROOT } from '../profile.ts';
import type { StackKeys } from '../stack/keys.ts';
import { rateLimitsFromEnv, readAuthConfig, type AuthConfig } from './config.ts';
import { openAuthDatabase } from './database.ts';
import { createMailer } from './mailer.ts';
import { createLimiters } from './rate-limits.ts';
import { AuthHttpError, errorReply, unexpectedFailure } from './errors.ts';
import { BodyTooLarge, rejectNul, sendJson, sendNoContent, sendRedirect } from './http.ts';
import type { AuthContext } from './handler.ts';
import { route } from './routes.ts';
import { createTokenIssuer } from './tokens.ts';

export interface AuthServerOptions {
  port: number;
  host?: string;
  dbUrl: string;
  keys: StackKeys;
  /** `${SUPABASE_URL}/auth/v1`, the iss claim of every access token. */
  issuer: string;
  /** The legacy JWT secret while the project has it (absent: HS256 tokens are refused). */
  legacyJwtSecret?: string;
  /** [auth] jwt_expiry in supabase/config.toml. */
  jwtExpirySeconds?: number;
  /** [auth] refresh_token_reuse_interval in supabase/config.toml. */
  refreshTokenReuseIntervalSeconds?: number;
  /** Where Auth's emails go (the local mail catcher's SMTP port). */
  smtp: { host: string; port: number };
  /** The [auth] settings; by default supabase/config.toml with GOTRUE_RATE_LIMIT_* applied. */
  config?: AuthConfig;
  /** The clock of the rate limiters (tests). */
  now?: () => number;
}

export function defaultAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const config = readAuthConfig(resolve(ROOT, 'supabase/config.toml'), env);
  return { ...config, rateLimits: rateLimitsFromEnv(config.rateLimits, env) };
}

export async function createAuthServer(opts: AuthServerOptions): Promise<{ url: string; close(): Promise<void> }> {
  const sql = openAuthDatabase(opts.dbUrl);
  const config = opts.config ?? defaultAuthConfig();
  const mailer = createMailer(config, opts.smtp);
  const ctx: AuthContext = {
    sql,
    tokens: await createTokenIssuer({
      privateJwk: opts.keys.privateJwk,
      publicJwk: opts.keys.publicJwk,
      issuer: opts.issuer,
      expirySeconds: opts.jwtExpirySeconds ?? 3600,
      legacyJwtSecret: opts.legacyJwtSecret,
    }),
    publicJwk: opts.keys.publicJwk,
    refreshTokenReuseIntervalSeconds: opts.refreshTokenReuseIntervalSeconds ?? 10,
    config,
    limiters: createLimiters(config.rateLimits, opts.now),
    mailer,
    externalUrl: opts.issuer,
  };

  const server = http.createServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://auth.local');
    try {
      if (method === 'OPTIONS') {
        sendNoContent(res);
        return;
      }
      rejectNul([...url.searchParams].flat(), 'query string');
      const { handler, params } = route(method, url.pathname);
      rejectNul(params, 'path');
      const reply = await handler(ctx, { req, url, params });
      if (reply.status === 204) sendNoContent(res, reply.headers);
      else if (reply.status === 303) sendRedirect(res, reply.headers?.location ?? '/');
      else sendJson(res, reply.status, reply.body, reply.headers);
    } catch (err) {
      const known = err instanceof AuthHttpError ? err : null;
      if (!known) {
        // Message only: postgres.js errors carry no parameter values, so no password or token leaks.
        console.error(`auth: ${method} ${url.pathname} failed: ${(err as Error)?.message ?? String(err)}`);
      }
      if (res.headersSent || res.destroyed) return;
      const reply = errorReply(known ?? unexpectedFailure(), header(req, 'x-supabase-api-version'));
      // A body too large to drain is left unread: the connection cannot be reused.
      const extra: Record<string, string> = err instanceof BodyTooLarge && !err.drained ? { connection: 'close' } : {};
      sendJson(res, reply.status, reply.body, { ...reply.headers, ...extra });
    }
  });
  server.keepAliveTimeout = 65_000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    mailer.close();
    await sql.end({ timeout: 1 });
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;

  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      mailer.close();
      await sql.end({ timeout: 5 });
    },
  };
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
