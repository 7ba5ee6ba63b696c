// Per worker invocation: one token source per channel, so a channel's token is refreshed once
// however many of its schedules the invocation runs, and the tokens' events counted for the
// invocation's log line (step-log.ts), not logged one by one.
import type { RetryPolicy } from '../_shared/integrations/youtube/http-retry.ts';
import { YouTubeUploader } from '../_shared/integrations/youtube/upload-client.ts';
import { ChannelTokenSource, TokenTally } from '../_shared/integrations/youtube/token-store.ts';
import { reserveQuota } from '../_shared/integrations/youtube/quota-store.ts';

export class ChannelClients {
  private readonly tokens = new Map<string, ChannelTokenSource>();
  readonly tokenEvents = new TokenTally();
  constructor(readonly retry?: RetryPolicy) {}

  tokensFor(channel: { id: string; workspace_id: string }): ChannelTokenSource {
    let t = this.tokens.get(channel.id);
    if (!t) {
      t = new ChannelTokenSource({ id: channel.id, workspaceId: channel.workspace_id }, { retry: this.retry }, this.tokenEvents);
      this.tokens.set(channel.id, t);
    }
    return t;
  }

  uploader(channel: { id: string; workspace_id: string }): YouTubeUploader {
    return new YouTubeUploader({
      tokens: this.tokensFor(channel),
      quota: reserveQuota(channel.workspace_id, channel.id),
      retry: this.retry,
    });
  }
}
