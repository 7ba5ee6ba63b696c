// The routing table: GoTrue's paths (the gateway strips /auth/v1), each to its handler; any other
// method and path is answered 501, so a missing feature is obvious rather than a silent 404.
import { adminCreateUser, adminDeleteUser, adminGetUser, adminListUsers, adminUpdateUser } from './admin-routes.ts';
import { notImplemented } from './errors.ts';
import type { Handler } from './handler.ts';
import { invite, magiclink, otp, recover, resend } from './email-routes.ts';
import { getUser, health, jwks, logout, signup, token, updateUser } from './user-routes.ts';
import { verifyGet, verifyPost } from './verify-routes.ts';

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/health$/, handler: health },
  { method: 'GET', pattern: /^\/\.well-known\/jwks\.json$/, handler: jwks },
  { method: 'POST', pattern: /^\/signup$/, handler: signup },
  { method: 'POST', pattern: /^\/token$/, handler: token },
  { method: 'POST', pattern: /^\/recover$/, handler: recover },
  { method: 'POST', pattern: /^\/resend$/, handler: resend },
  { method: 'POST', pattern: /^\/otp$/, handler: otp },
  { method: 'POST', pattern: /^\/magiclink$/, handler: magiclink },
  { method: 'GET', pattern: /^\/verify$/, handler: verifyGet },
  { method: 'POST', pattern: /^\/verify$/, handler: verifyPost },
  { method: 'POST', pattern: /^\/invite$/, handler: invite },
  { method: 'GET', pattern: /^\/user$/, handler: getUser },
  { method: 'PUT', pattern: /^\/user$/, handler: updateUser },
  { method: 'POST', pattern: /^\/logout$/, handler: logout },
  { method: 'GET', pattern: /^\/admin\/users$/, handler: adminListUsers },
  { method: 'POST', pattern: /^\/admin\/users$/, handler: adminCreateUser },
  { method: 'GET', pattern: /^\/admin\/users\/(?<id>[^/]+)$/, handler: adminGetUser },
  { method: 'PUT', pattern: /^\/admin\/users\/(?<id>[^/]+)$/, handler: adminUpdateUser },
  { method: 'DELETE', pattern: /^\/admin\/users\/(?<id>[^/]+)$/, handler: adminDeleteUser },
];

export function route(method: string, path: string): { handler: Handler; params: Record<string, string> } {
  const normalized = path.length > 1 ? path.replace(/\/+$/, '') : path;
  for (const r of ROUTES) {
    if (r.method !== method) continue;
    const match = r.pattern.exec(normalized);
    if (match) return { handler: r.handler, params: { ...(match.groups ?? {}) } };
  }
  return {
    handler: async () => {
      throw notImplemented(`${method} ${normalized}`);
    },
    params: {},
  };
}
