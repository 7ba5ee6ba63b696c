// POST /start { workspace_id }: an editor or owner begins connecting a channel. Answers Google's
// consent URL; the random `state` is stored only as its sha256, with the workspace, the user, the
// PKCE verifier (encrypted) and a ten-minute expiry, and can be used once.
import { z } from 'zod';
import { requireUser } from '../_shared/platform/auth.ts';
import { OAuthNotConfiguredError, oauthClient } from '../_shared/integrations/youtube/google-config.ts';
import { consentUrl, createPkce, randomToken, sha256Hex } from '../_shared/integrations/youtube/oauth-client.ts';
import { asService, asUser } from '../_shared/platform/db.ts';
import { env } from '../_shared/platform/env.ts';
import { HttpError, json, type RouteContext } from '../_shared/platform/http.ts';
import { parseBody } from '../_shared/platform/request.ts';
import { requireRole, Uuid } from '../_shared/platform/tenancy.ts';

const StartBody = z.object({ workspace_id: Uuid });

/** Where Google sends the browser back; must be registered with the OAuth client. */
export function callbackUrl(): string {
  return `${env().SUPABASE_URL}/functions/v1/youtube-oauth/callback`;
}

export function notConfigured(): HttpError {
  return new HttpError(503, 'youtube_not_configured', new OAuthNotConfiguredError().message);
}

export async function start(ctx: RouteContext): Promise<Response> {
  const claims = await requireUser(ctx.req);
  const { workspace_id } = await parseBody(ctx, StartBody);
  await asUser(claims, (tx) => requireRole(tx, workspace_id, 'editor', 'connect YouTube channels'));
  try {
    oauthClient();
  } catch (err) {
    if (err instanceof OAuthNotConfiguredError) throw notConfigured();
    throw err;
  }

  const state = randomToken(32);
  const { verifier, challenge } = await createPkce();
  const redirectUri = callbackUrl();
  const stateHash = await sha256Hex(state);
  const [row] = await asService(
    (tx) =>
      tx<{ expires_at: Date }[]>`
      select private.create_youtube_oauth_state(${stateHash}, ${workspace_id}, ${claims.sub}, ${verifier}, ${redirectUri}) as expires_at`,
  );
  return json({ url: consentUrl({ redirectUri, state, codeChallenge: challenge }), expires_at: row.expires_at.toISOString() });
}
