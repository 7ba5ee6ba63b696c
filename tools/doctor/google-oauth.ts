// Google OAuth client: two calls that change nothing.
// 1. The token endpoint with a code that cannot exist: Google checks the client before the code,
//    so `invalid_client` means a wrong id ("The OAuth client was not found.") or secret
//    ("Unauthorized"), and `invalid_grant` means the client itself is fine.
// 2. The consent page with the stack's redirect URI, not followed: an unregistered redirect URI
//    (or client) is sent to Google's error page with the reason in `authError` (base64 of a small
//    protobuf holding the code, e.g. redirect_uri_mismatch); older answers are a 400 page saying
//    "Error 400: redirect_uri_mismatch". Anything else leads on to sign-in: the URI is registered.
import { consentBaseFor } from '../../supabase/functions/_shared/integrations/backends.ts';
import { call, excerpt } from './http.ts';
import type { CheckOutcome } from './types.ts';

export const OAUTH_PROBE_CODE = 'cce-doctor-check';
const SCOPES = [
  'https://www.googleapis.com/auth/youtube.readonly',
  'https://www.googleapis.com/auth/yt-analytics.readonly',
  'https://www.googleapis.com/auth/youtube.upload',
];

export function redirectUriFor(supabaseUrl: string): string {
  return `${supabaseUrl.replace(/\/+$/, '')}/functions/v1/youtube-oauth/callback`;
}

async function checkClient(env: Record<string, string>, redirectUri: string): Promise<CheckOutcome> {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: OAUTH_PROBE_CODE,
    client_id: env.YOUTUBE_CLIENT_ID!,
    client_secret: env.YOUTUBE_CLIENT_SECRET!,
    redirect_uri: redirectUri,
  });
  const res = await call(`${env.YOUTUBE_OAUTH_BASE}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body,
  });
  const answer = (res.json ?? {}) as { error?: string; error_description?: string };
  const code = [`HTTP ${res.status}`, answer.error].filter(Boolean).join(' ');
  const message = answer.error_description ? excerpt(answer.error_description) : undefined;
  if (answer.error === 'invalid_grant')
    return { ok: true, code, explanation: 'client id and secret accepted (the made-up code was refused, as expected).' };
  if (answer.error === 'invalid_client' && /not found/i.test(answer.error_description ?? '')) {
    return {
      ok: false,
      code,
      explanation:
        'bad client id: Google knows no OAuth client YOUTUBE_CLIENT_ID (deleted, or copied wrong). Google Cloud console → APIs & Services → Credentials.',
      message,
    };
  }
  if (answer.error === 'invalid_client' || answer.error === 'unauthorized_client') {
    return {
      ok: false,
      code,
      explanation: 'bad client secret: YOUTUBE_CLIENT_SECRET does not belong to this client id (reset or copy it again in the console).',
      message,
    };
  }
  if (answer.error === 'deleted_client' || answer.error === 'disabled_client')
    return { ok: false, code, explanation: 'the OAuth client is deleted or disabled in the Google Cloud console.', message };
  if (res.status >= 500)
    return { ok: false, code, explanation: "Google's token endpoint answered with a server error: try again later.", message };
  return { ok: false, code, explanation: 'unexpected answer from the token endpoint.', message: message ?? excerpt(res.text) };
}

/** The error code Google put in `authError` (protobuf field 1, a string), or the first code-like word. */
export function authErrorCode(authError: string): string | null {
  const bytes = Buffer.from(authError.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes[0] === 0x0a && bytes.length > 2 && bytes[1]! + 2 <= bytes.length) return bytes.subarray(2, 2 + bytes[1]!).toString('utf8');
  return /[a-z]+(?:_[a-z]+)+/.exec(bytes.toString('latin1'))?.[0] ?? null;
}

function consentRefusal(status: number, location: string | null, text: string): string | null {
  if (location) {
    const target = new URL(location, 'https://accounts.google.com');
    const authError = target.searchParams.get('authError');
    if (authError) return authErrorCode(authError) ?? 'invalid_request';
    return null;
  }
  if (status >= 400) return /Error\s*(?:\d{3}:)?\s*([a-z]+(?:_[a-z]+)+)/.exec(text)?.[1] ?? `HTTP ${status}`;
  return null;
}

async function checkRedirect(env: Record<string, string>, redirectUri: string): Promise<CheckOutcome> {
  const consent = consentBaseFor(env.YOUTUBE_OAUTH_BASE!, env.GOOGLE_AUTH_BASE || undefined);
  const query = new URLSearchParams({
    client_id: env.YOUTUBE_CLIENT_ID!,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: SCOPES.join(' '),
    access_type: 'offline',
    state: OAUTH_PROBE_CODE,
  });
  const res = await call(`${consent}/o/oauth2/v2/auth?${query}`, { headers: { accept: 'text/html' } });
  const refusal = consentRefusal(res.status, res.status >= 300 && res.status < 400 ? res.headers.get('location') : null, res.text);
  if (!refusal)
    return {
      ok: true,
      code: `HTTP ${res.status}`,
      explanation: `redirect URI ${redirectUri} accepted (the consent page would ask the user to sign in).`,
    };
  const code = `HTTP ${res.status} ${refusal}`;
  if (refusal === 'redirect_uri_mismatch') {
    return {
      ok: false,
      code,
      explanation: `wrong redirect URI: add ${redirectUri} to the OAuth client's "Authorised redirect URIs" (a Web application client; http is allowed for 127.0.0.1), then wait a few minutes.`,
    };
  }
  if (refusal === 'invalid_client') return { ok: false, code, explanation: 'the consent page does not know this client id.' };
  return { ok: false, code, explanation: 'the consent page refused the request.' };
}

export async function checkGoogleOAuth(env: Record<string, string>): Promise<CheckOutcome> {
  const redirectUri = redirectUriFor(env.SUPABASE_URL!);
  const client = await checkClient(env, redirectUri);
  if (!client.ok) return client;
  const redirect = await checkRedirect(env, redirectUri);
  return redirect.ok
    ? { ok: true, code: `${client.code}; ${redirect.code}`, explanation: `${client.explanation} ${redirect.explanation}` }
    : redirect;
}

export const OAUTH_CALL =
  'POST {YOUTUBE_OAUTH_BASE}/token with a made-up code (client check), then GET the consent page {accounts.google.com}/o/oauth2/v2/auth with the redirect URI, not followed (redirect URI check)';
