// Google OAuth 2.0 for the fake YouTube: the consent page (accounts.google.com/o/oauth2/v2/auth),
// the token endpoint (oauth2.googleapis.com/token) and revocation (oauth2.googleapis.com/revoke).
// Here they live under /oauth: /oauth/o/oauth2/v2/auth, /oauth/token, /oauth/revoke.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { RequestContext } from '../core/context.ts';
import type { Router } from '../core/router.ts';
import type { FakeChannel } from './catalog.ts';
import { ACCESS_TOKEN_SECONDS, type AccessGrant } from './oauth-store.ts';
import type { YouTubeState } from './state.ts';

const AUTHORIZE = '/oauth/o/oauth2/v2/auth';
const ERROR_PAGE = '/oauth/signin/oauth/error/v2';

export function registerOAuth(router: Router, state: YouTubeState) {
  router.get(AUTHORIZE, (ctx) => consentPage(ctx, state));
  // Where the consent page's buttons lead (Google's own follow-up URLs are internal to it).
  router.get(`${AUTHORIZE}/approve`, (ctx) => approve(ctx, state));
  router.get(`${AUTHORIZE}/deny`, (ctx) => deny(ctx));
  router.get(ERROR_PAGE, (ctx) => authErrorPage(ctx));
  router.post('/oauth/token', (ctx) => token(ctx, state));
  router.post('/oauth/revoke', (ctx) => revoke(ctx, state));
  router.get('/oauth/revoke', (ctx) => revoke(ctx, state));
}

const AuthorizeParams = z.object({
  client_id: z.string().min(1),
  redirect_uri: z
    .string()
    .url()
    .refine((u) => /^https?:$/.test(new URL(u).protocol), 'redirect_uri must be http(s)'),
  response_type: z.literal('code'),
  scope: z.string().trim().min(1),
  state: z.string().optional(),
  code_challenge: z
    .string()
    .regex(/^[A-Za-z0-9._~-]{43,128}$/, 'code_challenge must be 43-128 characters of [A-Za-z0-9._~-]')
    .optional(),
  code_challenge_method: z.enum(['S256', 'plain']).optional(),
  access_type: z.enum(['online', 'offline']).optional(),
  prompt: z.string().optional(),
  include_granted_scopes: z.string().optional(),
  login_hint: z.string().optional(),
  // Fake-only: which channel "signs in" (defaults to the demo channel), and skip the page.
  channel_id: z.string().optional(),
  auto: z.string().optional(),
});
type AuthorizeParams = z.infer<typeof AuthorizeParams>;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function errorPage(ctx: RequestContext, message: string) {
  ctx.sendHtml(
    400,
    `<!doctype html><html><head><title>Error 400 (OAuth2 Error)</title></head><body><h1>Access blocked: authorization error</h1><p>Error 400: invalid_request</p><p id="error-details">${escapeHtml(message)}</p></body></html>`,
  );
}

/** Parses the authorize parameters, or shows Google's error page and returns undefined. */
function authorizeParams(ctx: RequestContext, state: YouTubeState): { params: AuthorizeParams; channel: FakeChannel } | undefined {
  const parsed = AuthorizeParams.safeParse(Object.fromEntries(ctx.query));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? 'request');
    const present = ctx.query.has(field);
    errorPage(ctx, present ? `Invalid parameter value for ${field}: ${issue.message}` : `Missing required parameter: ${field}`);
    return undefined;
  }
  const params = parsed.data;
  if (!clientMayAuthorize(ctx, state, params)) return undefined;
  const wanted =
    params.channel_id ?? (params.login_hint && state.channels.has(params.login_hint) ? params.login_hint : state.demoChannelId);
  const channel = state.channels.get(wanted);
  if (!channel) {
    errorPage(ctx, `No fake YouTube channel ${wanted}`);
    return undefined;
  }
  return { params, channel };
}

// Google sends a request it refuses to its own error page, the reason in `authError`: base64 of a
// small protobuf (1: error code, 2: message, 4: HTTP status), e.g. redirect_uri_mismatch. Seen in
// the Location of live refusals; the layout is not documented, so only the two strings are relied on.
function protoString(field: number, value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  return Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);
}

export function authErrorParam(code: string, message: string, status: number): string {
  const varint = Buffer.from([(status & 0x7f) | 0x80, status >> 7]);
  return Buffer.concat([protoString(1, code), protoString(2, message.slice(0, 120)), Buffer.from([4 << 3]), varint]).toString('base64');
}

function refuseAuthorize(ctx: RequestContext, clientId: string, code: string, message: string, status: number) {
  const target = new URL(ERROR_PAGE, `${ctx.origin}`);
  target.searchParams.set('authError', authErrorParam(code, message, status));
  target.searchParams.set('client_id', clientId);
  ctx.redirect(target.toString());
}

/** With registered clients (control API), an unknown client or redirect URI is refused as Google does. */
function clientMayAuthorize(ctx: RequestContext, state: YouTubeState, params: AuthorizeParams): boolean {
  if (state.oauthClients === null) return true;
  const client = state.oauthClients.get(params.client_id);
  if (!client) {
    refuseAuthorize(ctx, params.client_id, 'invalid_client', 'The OAuth client was not found.', 401);
    return false;
  }
  if (!client.redirectUris.includes(params.redirect_uri)) {
    refuseAuthorize(
      ctx,
      params.client_id,
      'redirect_uri_mismatch',
      `The redirect URI in the request, ${params.redirect_uri}, does not match the ones authorized for the OAuth client.`,
      400,
    );
    return false;
  }
  return true;
}

function authErrorPage(ctx: RequestContext) {
  const raw = Buffer.from(ctx.query.get('authError') ?? '', 'base64').toString('latin1');
  const code = /[a-z_]{5,}/.exec(raw)?.[0] ?? 'invalid_request';
  ctx.sendHtml(
    400,
    `<!doctype html><html><head><title>Error 400 (OAuth2 Error)</title></head><body><h1>Access blocked: authorization error</h1><p>Error: ${escapeHtml(code)}</p></body></html>`,
  );
}

function consentPage(ctx: RequestContext, state: YouTubeState) {
  const parsedRequest = authorizeParams(ctx, state);
  if (!parsedRequest) return;
  const { params, channel } = parsedRequest;
  if (params.auto === '1' || params.auto === 'true') return approve(ctx, state);

  const linkFor = (action: 'approve' | 'deny', channelId?: string) => {
    const q = new URLSearchParams(ctx.query);
    q.delete('auto');
    if (channelId) q.set('channel_id', channelId);
    return `${AUTHORIZE}/${action}?${q.toString()}`;
  };
  const others = [...state.channels.values()].filter((c) => c.id !== channel.id);
  const scopes = params.scope
    .split(/\s+/)
    .map((s) => `<li>${escapeHtml(s)}</li>`)
    .join('');
  ctx.sendHtml(
    200,
    `<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in - Google Accounts (local fake)</title></head>
<body>
<h1>Choose an account to continue</h1>
<p>The app <strong>${escapeHtml(params.client_id)}</strong> wants to access your YouTube account
<strong id="channel-title">${escapeHtml(channel.title)}</strong> (<code>${escapeHtml(channel.id)}</code>):</p>
<ul>${scopes}</ul>
<p><a id="allow" href="${escapeHtml(linkFor('approve', channel.id))}"><button type="button">Allow</button></a>
<a id="deny" href="${escapeHtml(linkFor('deny'))}"><button type="button">Cancel</button></a></p>
${others.length > 0 ? `<h2>Use another channel</h2><ul>${others.map((c) => `<li><a class="other-channel" href="${escapeHtml(linkFor('approve', c.id))}">Allow as ${escapeHtml(c.title)} (${escapeHtml(c.id)})</a></li>`).join('')}</ul>` : ''}
</body></html>`,
  );
}

function redirectWith(ctx: RequestContext, redirectUri: string, values: Record<string, string | undefined>) {
  const target = new URL(redirectUri);
  for (const [k, v] of Object.entries(values)) if (v !== undefined) target.searchParams.set(k, v);
  ctx.redirect(target.toString());
}

function approve(ctx: RequestContext, state: YouTubeState) {
  const parsedRequest = authorizeParams(ctx, state);
  if (!parsedRequest) return;
  const { params, channel } = parsedRequest;
  const code = state.oauth.issueCode({
    clientId: params.client_id,
    redirectUri: params.redirect_uri,
    channelId: channel.id,
    scopes: params.scope.split(/\s+/),
    challenge: params.code_challenge ?? null,
    // RFC 7636: without a method the challenge is "plain".
    challengeMethod: params.code_challenge_method ?? 'plain',
    offline: params.access_type === 'offline',
  });
  redirectWith(ctx, params.redirect_uri, {
    state: params.state,
    code: code.code,
    scope: code.scopes.join(' '),
    authuser: '0',
    prompt: 'consent',
  });
}

function deny(ctx: RequestContext) {
  const redirectUri = ctx.query.get('redirect_uri');
  if (!redirectUri || !URL.canParse(redirectUri)) return errorPage(ctx, 'Missing required parameter: redirect_uri');
  redirectWith(ctx, redirectUri, { error: 'access_denied', state: ctx.query.get('state') ?? undefined });
}

// ---- token endpoint -------------------------------------------------------------------------

function oauthError(ctx: RequestContext, status: number, error: string, description: string) {
  ctx.sendJson(status, { error, error_description: description }, NO_STORE);
}

const NO_STORE = { 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate', pragma: 'no-cache' };

function tokenParams(ctx: RequestContext): URLSearchParams {
  if (/json/i.test(ctx.header('content-type') ?? '')) {
    const body = ctx.json();
    const params = new URLSearchParams();
    if (body && typeof body === 'object') for (const [k, v] of Object.entries(body)) if (typeof v === 'string') params.set(k, v);
    return params;
  }
  return ctx.form();
}

/** client_secret_post or client_secret_basic, as Google accepts both. */
function clientCredentials(ctx: RequestContext, params: URLSearchParams): { id?: string; secret?: string } {
  const basic = /^Basic\s+(\S+)$/i.exec(ctx.header('authorization') ?? '');
  if (basic) {
    const [id, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':', 2);
    return { id: id ? decodeURIComponent(id) : undefined, secret: secret ? decodeURIComponent(secret) : undefined };
  }
  return { id: params.get('client_id') ?? undefined, secret: params.get('client_secret') ?? undefined };
}

function verifierMatches(verifier: string, challenge: string, method: 'S256' | 'plain'): boolean {
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return false;
  const derived = method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  return derived === challenge;
}

function accessTokenResponse(grant: AccessGrant, refreshToken?: string) {
  const body: Record<string, unknown> = { access_token: grant.token, expires_in: ACCESS_TOKEN_SECONDS };
  if (refreshToken) body.refresh_token = refreshToken;
  body.scope = grant.scopes.join(' ');
  body.token_type = 'Bearer';
  return body;
}

function token(ctx: RequestContext, state: YouTubeState) {
  const params = tokenParams(ctx);
  const grantType = params.get('grant_type') ?? '';
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
    return oauthError(ctx, 400, 'unsupported_grant_type', `Invalid grant_type: ${grantType}`);
  }
  const client = clientCredentials(ctx, params);
  if (!client.id) return oauthError(ctx, 400, 'invalid_request', 'Could not determine client ID from request.');
  if (!client.secret) return oauthError(ctx, 400, 'invalid_request', 'client_secret is missing.');
  if (state.oauthClients !== null) {
    const registered = state.oauthClients.get(client.id);
    if (!registered) return oauthError(ctx, 401, 'invalid_client', 'The OAuth client was not found.');
    if (registered.secret !== client.secret) return oauthError(ctx, 401, 'invalid_client', 'Unauthorized');
  }

  if (grantType === 'authorization_code') {
    const codeValue = params.get('code');
    if (!codeValue) return oauthError(ctx, 400, 'invalid_request', 'Missing required parameter: code');
    const code = state.oauth.findCode(codeValue);
    if (!code) return oauthError(ctx, 400, 'invalid_grant', 'Malformed auth code.');
    if (code.used || code.expiresAt <= state.now()) return oauthError(ctx, 400, 'invalid_grant', 'Bad Request');
    if (code.clientId !== null && code.clientId !== client.id) return oauthError(ctx, 401, 'unauthorized_client', 'Unauthorized');
    if (code.redirectUri !== null && params.get('redirect_uri') !== code.redirectUri)
      return oauthError(ctx, 400, 'redirect_uri_mismatch', 'Bad Request');
    if (code.challenge !== null) {
      const verifier = params.get('code_verifier');
      if (!verifier) return oauthError(ctx, 400, 'invalid_grant', 'Missing code verifier.');
      // A wrong verifier does not burn the code: the legitimate client can still redeem it.
      if (!verifierMatches(verifier, code.challenge, code.challengeMethod))
        return oauthError(ctx, 400, 'invalid_grant', 'Invalid code verifier.');
    }
    code.used = true;
    const refresh = code.offline
      ? state.oauth.issueRefresh({ clientId: client.id, channelId: code.channelId, scopes: code.scopes })
      : undefined;
    const access = state.oauth.issueAccess({
      clientId: client.id,
      channelId: code.channelId,
      scopes: code.scopes,
      refreshToken: refresh?.token ?? null,
    });
    return ctx.sendJson(200, accessTokenResponse(access, refresh?.token), NO_STORE);
  }

  const refreshValue = params.get('refresh_token');
  if (!refreshValue) return oauthError(ctx, 400, 'invalid_request', 'Missing required parameter: refresh_token');
  const refresh = state.oauth.findRefresh(refreshValue);
  if (!refresh || refresh.revoked) return oauthError(ctx, 400, 'invalid_grant', 'Token has been expired or revoked.');
  if (refresh.clientId !== null && refresh.clientId !== client.id) return oauthError(ctx, 401, 'unauthorized_client', 'Unauthorized');
  const access = state.oauth.issueAccess({
    clientId: client.id,
    channelId: refresh.channelId,
    scopes: refresh.scopes,
    refreshToken: refresh.token,
  });
  // Like Google: a refresh grant returns no new refresh token; the client keeps the old one.
  ctx.sendJson(200, accessTokenResponse(access), NO_STORE);
}

function revoke(ctx: RequestContext, state: YouTubeState) {
  const value = ctx.query.get('token') ?? (ctx.method === 'POST' ? ctx.form().get('token') : null);
  if (!value) return oauthError(ctx, 400, 'invalid_request', 'Missing required parameter: token');
  if (!state.oauth.revoke(value)) return oauthError(ctx, 400, 'invalid_token', 'Token expired or revoked');
  ctx.sendJson(200, {});
}
