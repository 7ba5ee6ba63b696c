// Where Google's OAuth and YouTube endpoints are, and the OAuth client to use, from env only.
//
// Real Google serves the consent page on accounts.google.com but the token and revoke endpoints
// on oauth2.googleapis.com; an emulator of it (local/fakes) serves all three under one base.
// YOUTUBE_OAUTH_BASE names the token host. GOOGLE_AUTH_BASE may name the consent host; when it is
// unset, the consent host follows from the token host: Google's own consent host for Google's own
// token host, otherwise the same base (a server that answers both, as emulators and proxies do).
import { z } from 'zod';
import { env } from '../../platform/env.ts';
import { consentBaseFor } from '../backends.ts';

export { consentBaseFor };

export interface GoogleEndpoints {
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  dataApiBase: string;
  analyticsBase: string;
}

const OptionalBase = z
  .url()
  .transform((u) => u.replace(/\/+$/, ''))
  .optional();

export function googleEndpoints(): GoogleEndpoints {
  const e = env();
  const parsed = OptionalBase.safeParse(Deno.env.get('GOOGLE_AUTH_BASE') || undefined);
  if (!parsed.success) throw new Error('GOOGLE_AUTH_BASE: must be a URL');
  const consentBase = consentBaseFor(e.YOUTUBE_OAUTH_BASE, parsed.data);
  return {
    authorizeUrl: `${consentBase}/o/oauth2/v2/auth`,
    tokenUrl: `${e.YOUTUBE_OAUTH_BASE}/token`,
    revokeUrl: `${e.YOUTUBE_OAUTH_BASE}/revoke`,
    dataApiBase: `${e.YOUTUBE_API_BASE}/youtube/v3`,
    analyticsBase: `${e.YOUTUBE_ANALYTICS_BASE}/v2`,
  };
}

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
}

export class OAuthNotConfiguredError extends Error {
  constructor() {
    super('YouTube OAuth is not configured: set YOUTUBE_CLIENT_ID and YOUTUBE_CLIENT_SECRET');
    this.name = 'OAuthNotConfiguredError';
  }
}

export function oauthClient(): OAuthClient {
  const e = env();
  if (!e.YOUTUBE_CLIENT_ID || !e.YOUTUBE_CLIENT_SECRET) throw new OAuthNotConfiguredError();
  return { clientId: e.YOUTUBE_CLIENT_ID, clientSecret: e.YOUTUBE_CLIENT_SECRET };
}

// What the product asks for: read the channel and its analytics, and upload (the publishing issue).
export const YOUTUBE_SCOPES = [
  'https://www.googleapis.com/auth/youtube.readonly',
  'https://www.googleapis.com/auth/yt-analytics.readonly',
  'https://www.googleapis.com/auth/youtube.upload',
] as const;
