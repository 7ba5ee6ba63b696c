// Google OAuth 2.0 for installed-style web flows: the consent URL (with PKCE), the code exchange,
// refresh grants and revocation. Tokens only ever travel in request bodies, never in URLs or
// messages: every error raised here is built from Google's error code and description alone.
import { z } from 'zod';
import { googleEndpoints, oauthClient, YOUTUBE_SCOPES } from './google-config.ts';
import { parseGoogleError, ReauthRequiredError, YouTubeApiError } from './errors.ts';
import { DEFAULT_RETRY, fetchWithRetry, type RetryHooks, type RetryPolicy } from './http-retry.ts';

export interface TokenSet {
  accessToken: string;
  /** Absent when Google sends none (refresh grants, and often re-consent): keep the stored one. */
  refreshToken?: string;
  expiresAt: Date;
  scopes: string[];
}

const TokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().int().positive(),
  refresh_token: z.string().min(1).optional(),
  scope: z.string().optional(),
  token_type: z.string().optional(),
});

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function randomToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** RFC 7636: a 64-character verifier and its S256 challenge. */
export async function createPkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = randomToken(48);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  return { verifier, challenge: base64url(digest) };
}

export function consentUrl(p: { redirectUri: string; state: string; codeChallenge: string; loginHint?: string }): string {
  const { clientId } = oauthClient();
  const url = new URL(googleEndpoints().authorizeUrl);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: p.redirectUri,
    response_type: 'code',
    scope: YOUTUBE_SCOPES.join(' '),
    // offline + consent: Google returns a refresh token (it may still omit it; see TokenSet).
    access_type: 'offline',
    prompt: 'consent',
    include_granted_scopes: 'true',
    state: p.state,
    code_challenge: p.codeChallenge,
    code_challenge_method: 'S256',
    ...(p.loginHint ? { login_hint: p.loginHint } : {}),
  }).toString();
  return url.toString();
}

export interface OAuthCallOptions {
  retry?: RetryPolicy;
  hooks?: RetryHooks;
}

async function tokenRequest(endpoint: string, form: Record<string, string>, opts: OAuthCallOptions): Promise<TokenSet> {
  const { clientId, clientSecret } = oauthClient();
  const body = new URLSearchParams({ ...form, client_id: clientId, client_secret: clientSecret }).toString();
  const res = await fetchWithRetry(
    endpoint,
    () =>
      new Request(googleEndpoints().tokenUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body,
      }),
    opts.retry ?? DEFAULT_RETRY,
    opts.hooks,
  );
  if (res.status !== 200) {
    const info = parseGoogleError(res.status, res.text);
    if (info.reason === 'invalid_grant' && form.grant_type === 'refresh_token') throw new ReauthRequiredError(info.message);
    throw new YouTubeApiError(endpoint, res.status, info);
  }
  let parsed: z.infer<typeof TokenResponse>;
  try {
    parsed = TokenResponse.parse(JSON.parse(res.text));
  } catch {
    // The body holds tokens: it is never quoted.
    throw new YouTubeApiError(endpoint, res.status, { message: 'the token endpoint answered with an unexpected body' });
  }
  return {
    accessToken: parsed.access_token,
    refreshToken: parsed.refresh_token,
    expiresAt: new Date(Date.now() + parsed.expires_in * 1000),
    scopes: parsed.scope ? parsed.scope.split(/\s+/).filter(Boolean) : [],
  };
}

export function exchangeCode(
  p: { code: string; codeVerifier: string; redirectUri: string },
  opts: OAuthCallOptions = {},
): Promise<TokenSet> {
  return tokenRequest(
    'oauth.token(authorization_code)',
    {
      grant_type: 'authorization_code',
      code: p.code,
      code_verifier: p.codeVerifier,
      redirect_uri: p.redirectUri,
    },
    opts,
  );
}

/** Throws ReauthRequiredError on `invalid_grant` (revoked, expired, or password changed). */
export function refreshAccessToken(refreshToken: string, opts: OAuthCallOptions = {}): Promise<TokenSet> {
  return tokenRequest('oauth.token(refresh_token)', { grant_type: 'refresh_token', refresh_token: refreshToken }, opts);
}

/**
 * Revokes a token (revoking the refresh token ends the whole grant). True when Google revoked it
 * or says it is already invalid; false when Google could not be reached.
 */
export async function revokeToken(token: string, opts: OAuthCallOptions = {}): Promise<boolean> {
  try {
    const res = await fetchWithRetry(
      'oauth.revoke',
      () =>
        new Request(googleEndpoints().revokeUrl, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token }).toString(),
        }),
      opts.retry ?? DEFAULT_RETRY,
      opts.hooks,
    );
    if (res.status === 200) return true;
    // 400 invalid_token: already revoked or expired, which is what we wanted.
    return res.status === 400 && parseGoogleError(res.status, res.text).reason === 'invalid_token';
  } catch {
    return false;
  }
}
