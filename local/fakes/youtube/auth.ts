// Who is calling the fake YouTube: an OAuth access token (Authorization: Bearer, or the legacy
// access_token query parameter) or an API key (key= / x-goog-api-key). The caller's project is
// what quota is counted against: the OAuth client, or the API key.
import type { RequestContext } from '../core/context.ts';
import { hashString } from '../core/random.ts';
import { insufficientScopes, invalidCredentials, missingApiKey, missingCredentials } from './errors.ts';
import type { AccessGrant } from './oauth-store.ts';
import type { YouTubeState } from './state.ts';

export type Caller =
  { kind: 'oauth'; grant: AccessGrant; project: string; channelId: string } | { kind: 'key'; project: string; channelId: null };

function bearerToken(ctx: RequestContext): string | undefined {
  const header = ctx.header('authorization');
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m ? m[1]! : ''; // a non-Bearer Authorization header is as good as a bad token
  }
  return ctx.query.get('access_token') ?? undefined;
}

function apiKey(ctx: RequestContext): string | undefined {
  return ctx.query.get('key') ?? ctx.header('x-goog-api-key') ?? undefined;
}

// Quota is keyed by project; an API key is a credential, so only a fingerprint of it is kept.
function projectOf(clientId: string | null, key?: string): string {
  if (key !== undefined) return `apikey-${hashString(key).toString(16)}`;
  return clientId ?? 'control-api-client';
}

/**
 * Authenticates the request, or answers the error itself and returns undefined.
 * `keyAllowed`: whether an API key alone is enough (public Data API reads).
 */
export function authenticate(
  ctx: RequestContext,
  state: YouTubeState,
  opts: { keyAllowed: boolean; scopes: string[] },
): Caller | undefined {
  const token = bearerToken(ctx);
  if (token !== undefined) {
    const grant = state.oauth.validAccess(token);
    if (!grant) {
      invalidCredentials(ctx);
      return undefined;
    }
    if (!grant.scopes.some((s) => opts.scopes.includes(s))) {
      insufficientScopes(ctx);
      return undefined;
    }
    return { kind: 'oauth', grant, project: projectOf(grant.clientId), channelId: grant.channelId };
  }
  const key = apiKey(ctx);
  if (opts.keyAllowed && key) return { kind: 'key', project: projectOf(null, key), channelId: null };
  if (opts.keyAllowed) missingApiKey(ctx);
  else missingCredentials(ctx);
  return undefined;
}
