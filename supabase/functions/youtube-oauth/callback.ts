// GET /callback?code&state: the browser returns from Google's consent page. No user JWT comes
// with it (verify_jwt = false for this function); the single-use state stands for the user who
// started the flow. The code is exchanged (with the PKCE verifier), the channel read with
// channels.list?mine=true, and the channel, its encrypted tokens and a 'connect' sync are stored
// in one transaction; the browser is sent back to the web app with the outcome.
import {
  type AccessTokenSource,
  createYouTubeClient,
  exchangeCode,
  OAuthNotConfiguredError,
  QuotaExhaustedError,
  refreshAccessToken,
  sha256Hex,
  type TokenSet,
} from '../_shared/clients/youtube.ts';
import { asService } from '../_shared/db.ts';
import type { RouteContext } from '../_shared/http.ts';
import { errorFields, logEvent } from '../_shared/youtube/log.ts';
import { reserveQuota } from '../_shared/youtube/quota.ts';
import { callbackFailure, redirectToApp } from './pages.ts';
import { notConfigured } from './start.ts';

const STATE_PROBLEMS: Record<string, { code: string; message: string }> = {
  unknown: { code: 'invalid_state', message: 'This sign-in link is not valid: it was not issued by this app. Start connecting your channel again.' },
  used: { code: 'state_used', message: 'This sign-in link has already been used. Start connecting your channel again.' },
  expired: { code: 'state_expired', message: 'This sign-in link has expired (links last 10 minutes). Start connecting your channel again.' },
};

/** The tokens just obtained, for the one channels.list call made before they are stored. */
function freshTokens(tokens: TokenSet): AccessTokenSource {
  let current = tokens.accessToken;
  return {
    get: () => Promise.resolve(current),
    refresh: async () => {
      if (!tokens.refreshToken) throw new Error('the new access token was refused and no refresh token came with it');
      current = (await refreshAccessToken(tokens.refreshToken)).accessToken;
      return current;
    },
  };
}

// Google's own error codes on the redirect (access_denied, ...) pass through; anything else is
// reduced to a safe token for the web app's URL.
function safeCode(value: string): string {
  return /^[a-z_]{1,64}$/.test(value) ? value : 'oauth_error';
}

export async function callback(ctx: RouteContext): Promise<Response> {
  const q = ctx.url.searchParams;
  const state = q.get('state');
  if (!state || state.length > 512) {
    return callbackFailure(ctx.req, 400, 'invalid_state', STATE_PROBLEMS.unknown.message);
  }
  const stateHash = await sha256Hex(state);
  const [consumed] = await asService((tx) =>
    tx<{ outcome: string; workspace_id: string | null; user_id: string | null; code_verifier: string | null; redirect_uri: string | null }[]>`
      select * from public.consume_youtube_oauth_state(${stateHash})`
  );
  if (consumed.outcome !== 'ok') {
    const problem = STATE_PROBLEMS[consumed.outcome] ?? STATE_PROBLEMS.unknown;
    logEvent('warn', 'youtube_oauth_state_rejected', { outcome: consumed.outcome });
    return callbackFailure(ctx.req, 400, problem.code, problem.message);
  }
  const workspaceId = consumed.workspace_id!;
  const userId = consumed.user_id!;

  const googleError = q.get('error');
  if (googleError) return redirectToApp({ error: safeCode(googleError) });
  const code = q.get('code');
  if (!code) return redirectToApp({ error: 'missing_code' });

  let tokens: TokenSet;
  try {
    tokens = await exchangeCode({ code, codeVerifier: consumed.code_verifier!, redirectUri: consumed.redirect_uri! });
  } catch (err) {
    if (err instanceof OAuthNotConfiguredError) throw notConfigured();
    logEvent('warn', 'youtube_oauth_exchange_failed', { workspace_id: workspaceId, ...errorFields(err) });
    return redirectToApp({ error: 'token_exchange_failed' });
  }

  const client = createYouTubeClient({ tokens: freshTokens(tokens), quota: reserveQuota(workspaceId, null) });
  let channel;
  try {
    channel = await client.data.myChannel();
  } catch (err) {
    logEvent('warn', 'youtube_oauth_channel_lookup_failed', { workspace_id: workspaceId, ...errorFields(err) });
    return redirectToApp({ error: err instanceof QuotaExhaustedError ? 'quota_exhausted' : 'channel_lookup_failed' });
  }
  if (!channel) return redirectToApp({ error: 'no_channel' });

  const [connected] = await asService((tx) =>
    tx<{ outcome: string; channel_id: string | null; sync_run_id: string | null }[]>`
      select * from public.connect_youtube_channel(
        ${workspaceId}, ${userId}, ${channel.youtubeChannelId}, ${channel.title}, ${channel.description},
        ${channel.thumbnailUrl}, ${channel.uploadsPlaylistId}, ${tokens.refreshToken ?? null}, ${tokens.accessToken},
        ${tokens.expiresAt}, ${tokens.scopes.length > 0 ? tokens.scopes : null}::text[])`
  );
  switch (connected.outcome) {
    case 'connected':
      logEvent('info', 'youtube_channel_connected', {
        workspace_id: workspaceId,
        channel_id: connected.channel_id,
        youtube_channel_id: channel.youtubeChannelId,
        sync_run_id: connected.sync_run_id,
        refresh_token_received: tokens.refreshToken !== undefined,
      });
      return redirectToApp({ connected: connected.channel_id! });
    case 'conflict':
      return callbackFailure(
        ctx.req,
        409,
        'channel_in_other_workspace',
        `The YouTube channel "${channel.title}" is already connected to another workspace. An owner of that workspace must remove it there before it can be connected here.`,
      );
    case 'forbidden':
      return callbackFailure(ctx.req, 403, 'forbidden', 'You are no longer an editor or owner of the workspace this connection was started for.');
    case 'no_refresh_token':
      return redirectToApp({ error: 'no_refresh_token' });
    default:
      throw new Error(`unexpected connect outcome ${connected.outcome}`);
  }
}
