// POST /complete { state, code }: the web app finishes a connection with the session of the
// person signed in there. The state is used up only by the user who started the flow
// (private.consume_youtube_oauth_state checks the caller): anyone else gets 403 and the state is
// spent, so a consent link forwarded to another person can never put that person's channel and
// refresh token into the initiator's workspace. Then the code is exchanged (with the PKCE
// verifier), the channel read with channels.list?mine=true, and the channel, its encrypted tokens
// and a 'connect' sync are stored in one transaction.
import { z } from 'zod';
import { requireUser } from '../_shared/platform/auth.ts';
import { type AccessTokenSource } from '../_shared/integrations/youtube/api-caller.ts';
import { createYouTubeClient } from '../_shared/integrations/youtube/client.ts';
import { QuotaExhaustedError, ReauthRequiredError, YouTubeApiError } from '../_shared/integrations/youtube/errors.ts';
import { OAuthNotConfiguredError } from '../_shared/integrations/youtube/google-config.ts';
import { exchangeCode, refreshAccessToken, sha256Hex, type TokenSet } from '../_shared/integrations/youtube/oauth-client.ts';
import { asService } from '../_shared/platform/db.ts';
import { HttpError, json, type RouteContext } from '../_shared/platform/http.ts';
import { parseBody } from '../_shared/platform/request.ts';
import { errorFields, logEvent } from '../_shared/integrations/youtube/event-log.ts';
import { reserveQuota } from '../_shared/integrations/youtube/quota-store.ts';
import { OAUTH_TOKEN } from './callback.ts';
import { notConfigured } from './start.ts';

const OAuthToken = z
  .string({ message: 'must be a string' })
  .max(512, 'must be at most 512 characters')
  .regex(OAUTH_TOKEN, 'must be the value Google sent back');
const CompleteBody = z.strictObject({ state: OAuthToken, code: OAuthToken });

const STATE_PROBLEMS: Record<string, HttpError> = {
  unknown: new HttpError(
    400,
    'invalid_state',
    'This sign-in link is not valid: it was not issued by this app. Start connecting your channel again.',
  ),
  used: new HttpError(400, 'state_used', 'This sign-in link has already been used. Start connecting your channel again.'),
  expired: new HttpError(
    400,
    'state_expired',
    'This sign-in link has expired (links last 10 minutes). Start connecting your channel again.',
  ),
  other_user: new HttpError(
    403,
    'state_other_user',
    'This sign-in link was started by another account. Only the person who started connecting can finish it; start connecting again while signed in as yourself.',
  ),
};

interface ConsumedState {
  outcome: string;
  workspace_id: string | null;
  user_id: string | null;
  code_verifier: string | null;
  redirect_uri: string | null;
}

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

async function consumeState(state: string, caller: string): Promise<{ workspaceId: string; verifier: string; redirectUri: string }> {
  const stateHash = await sha256Hex(state);
  const [consumed] = await asService(
    (tx) => tx<ConsumedState[]>`select * from private.consume_youtube_oauth_state(${stateHash}, ${caller})`,
  );
  if (consumed.outcome !== 'ok') {
    logEvent('warn', 'youtube_oauth_state_rejected', { outcome: consumed.outcome });
    throw STATE_PROBLEMS[consumed.outcome] ?? STATE_PROBLEMS.unknown;
  }
  return { workspaceId: consumed.workspace_id!, verifier: consumed.code_verifier!, redirectUri: consumed.redirect_uri! };
}

async function exchange(code: string, verifier: string, redirectUri: string, workspaceId: string): Promise<TokenSet> {
  try {
    return await exchangeCode({ code, codeVerifier: verifier, redirectUri });
  } catch (err) {
    if (err instanceof OAuthNotConfiguredError) throw notConfigured();
    logEvent('warn', 'youtube_oauth_exchange_failed', { workspace_id: workspaceId, ...errorFields(err) });
    // Google refusing the code is a bad code (400); not reaching Google is ours to report (502).
    const refused = err instanceof ReauthRequiredError || err instanceof YouTubeApiError;
    throw new HttpError(refused ? 400 : 502, 'token_exchange_failed', 'Google did not accept the sign-in. Please try connecting again.');
  }
}

async function lookUpChannel(tokens: TokenSet, workspaceId: string) {
  const client = createYouTubeClient({ tokens: freshTokens(tokens), quota: reserveQuota(workspaceId, null) });
  try {
    const channel = await client.data.myChannel();
    if (!channel)
      throw new HttpError(
        422,
        'no_channel',
        'That Google account has no YouTube channel. Create one on YouTube, or choose another account.',
      );
    return channel;
  } catch (err) {
    if (err instanceof HttpError) throw err;
    logEvent('warn', 'youtube_oauth_channel_lookup_failed', { workspace_id: workspaceId, ...errorFields(err) });
    if (err instanceof QuotaExhaustedError) {
      throw new HttpError(503, 'quota_exhausted', 'YouTube’s daily quota is used up. Try connecting again after midnight Pacific time.');
    }
    throw new HttpError(502, 'channel_lookup_failed', 'Signed in, but the YouTube channel could not be read. Please try again.');
  }
}

export async function complete(ctx: RouteContext): Promise<Response> {
  const claims = await requireUser(ctx.req);
  const { state, code } = await parseBody(ctx, CompleteBody);
  const { workspaceId, verifier, redirectUri } = await consumeState(state, claims.sub);
  const tokens = await exchange(code, verifier, redirectUri, workspaceId);
  const channel = await lookUpChannel(tokens, workspaceId);

  const [connected] = await asService(
    (tx) =>
      tx<{ outcome: string; channel_id: string | null; sync_run_id: string | null }[]>`
      select * from private.connect_youtube_channel(
        ${workspaceId}, ${claims.sub}, ${channel.youtubeChannelId}, ${channel.title}, ${channel.description},
        ${channel.thumbnailUrl}, ${channel.uploadsPlaylistId}, ${tokens.refreshToken ?? null}, ${tokens.accessToken},
        ${tokens.expiresAt}, ${tokens.scopes.length > 0 ? tokens.scopes : null}::text[])`,
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
      return json({ channel_id: connected.channel_id, workspace_id: workspaceId, sync_run_id: connected.sync_run_id });
    case 'conflict':
      throw new HttpError(
        409,
        'channel_in_other_workspace',
        `The YouTube channel "${channel.title}" is already connected to another workspace. An owner of that workspace must remove it there before it can be connected here.`,
      );
    case 'forbidden':
      throw new HttpError(403, 'forbidden', 'You are no longer an editor or owner of the workspace this connection was started for.');
    case 'no_refresh_token':
      throw new HttpError(
        422,
        'no_refresh_token',
        'Google did not grant offline access. Remove this app under your Google account’s third-party access, then connect again.',
      );
    default:
      throw new Error(`unexpected connect outcome ${connected.outcome}`);
  }
}
