// A channel's OAuth tokens as the API client needs them: an access token that is valid for at
// least another minute (refreshed ahead of expiry, and on demand after a 401), stored back
// encrypted. `invalid_grant` on refresh marks the channel reauth_required, so the UI can ask the
// owner to reconnect, and is logged without any token.
import { type AccessTokenSource } from './api-caller.ts';
import { ReauthRequiredError } from './errors.ts';
import { type OAuthCallOptions, refreshAccessToken } from './oauth-client.ts';
import { asService } from '../../platform/db.ts';
import { errorFields, logEvent } from './event-log.ts';

/** Refresh this long before Google's expiry, so a token never expires mid-request. */
export const REFRESH_MARGIN_MS = 60_000;

export interface ChannelRef {
  id: string;
  workspaceId: string;
}

/**
 * What a token source has to tell operators. By default each is a log line, which suits a sync
 * (one channel per run); the upload worker, which runs many channels in one invocation, counts them
 * into its one line instead (schedules/step-log.ts), as hosted keeps 100 log lines per 10 s of a
 * function. Neither carries a token.
 */
export interface TokenEvents {
  refreshed(channel: ChannelRef): void;
  reauthRequired(channel: ChannelRef, err: ReauthRequiredError): void;
}

export const LOGGED_TOKEN_EVENTS: TokenEvents = {
  refreshed: (channel) => logEvent('info', 'youtube_token_refreshed', { channel_id: channel.id }),
  reauthRequired: (channel, err) =>
    logEvent('warn', 'youtube_reauth_required', { channel_id: channel.id, workspace_id: channel.workspaceId, ...errorFields(err) }),
};

/** For a worker's one line per invocation: refreshes counted, the channels to reconnect each once. */
export class TokenTally implements TokenEvents {
  tokensRefreshed = 0;
  readonly reauthChannels = new Set<string>();

  refreshed(): void {
    this.tokensRefreshed++;
  }

  reauthRequired(channel: ChannelRef): void {
    this.reauthChannels.add(channel.id);
  }
}

async function markReauthRequired(channel: ChannelRef): Promise<void> {
  await asService((tx) => tx`update public.channels set status = 'reauth_required' where id = ${channel.id} and status = 'active'`);
}

export class ChannelTokenSource implements AccessTokenSource {
  private cached: { token: string; expiresAt: number } | null = null;

  constructor(
    private readonly channel: ChannelRef,
    private readonly oauth: OAuthCallOptions = {},
    private readonly events: TokenEvents = LOGGED_TOKEN_EVENTS,
  ) {}

  async get(): Promise<string> {
    if (this.cached && this.cached.expiresAt - REFRESH_MARGIN_MS > Date.now()) return this.cached.token;
    const [row] = await asService(
      (tx) =>
        tx<{ access_token: string | null; access_token_expires_at: Date | null }[]>`
        select access_token, access_token_expires_at from private.channel_credentials(${this.channel.id})`,
    );
    if (!row) return await this.fail(new ReauthRequiredError('no tokens are stored for this channel'));
    const expiresAt = row.access_token_expires_at?.getTime() ?? 0;
    if (row.access_token && expiresAt - REFRESH_MARGIN_MS > Date.now()) {
      this.cached = { token: row.access_token, expiresAt };
      return row.access_token;
    }
    return await this.refresh();
  }

  async refresh(): Promise<string> {
    const [row] = await asService(
      (tx) => tx<{ refresh_token: string | null }[]>`select refresh_token from private.channel_credentials(${this.channel.id})`,
    );
    if (!row?.refresh_token) return await this.fail(new ReauthRequiredError('no refresh token is stored for this channel'));
    let tokens;
    try {
      tokens = await refreshAccessToken(row.refresh_token, this.oauth);
    } catch (err) {
      if (err instanceof ReauthRequiredError) return await this.fail(err);
      throw err;
    }
    // A NULL refresh token keeps the stored one (refresh grants normally return none).
    await asService(
      (tx) =>
        tx`select private.save_channel_credentials(${this.channel.id}, ${tokens.refreshToken ?? null}, ${tokens.accessToken},
        ${tokens.expiresAt}, ${tokens.scopes.length > 0 ? tokens.scopes : null}::text[])`,
    );
    this.cached = { token: tokens.accessToken, expiresAt: tokens.expiresAt.getTime() };
    this.events.refreshed(this.channel);
    return tokens.accessToken;
  }

  private async fail(err: ReauthRequiredError): Promise<never> {
    this.cached = null;
    await markReauthRequired(this.channel);
    this.events.reauthRequired(this.channel, err);
    throw err;
  }
}
