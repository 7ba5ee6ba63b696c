// POST /disconnect { channel_id } (owners): the tokens are deleted and the channel marked
// disconnected in one transaction (its open syncs fail), then the refresh token is revoked at
// Google, which ends the whole grant. Synced videos and metrics stay until the channel is deleted.
import { z } from 'zod';
import { requireUser } from '../_shared/platform/auth.ts';
import { revokeToken } from '../_shared/integrations/youtube/oauth-client.ts';
import { asService, asUser } from '../_shared/platform/db.ts';
import { HttpError, json, type RouteContext } from '../_shared/platform/http.ts';
import { retryingConflicts } from '../_shared/platform/pg-errors.ts';
import { parseBody } from '../_shared/platform/request.ts';
import { requireRole, Uuid } from '../_shared/platform/tenancy.ts';
import { logEvent } from '../_shared/integrations/youtube/event-log.ts';

const DisconnectBody = z.object({ channel_id: Uuid });

export async function disconnect(ctx: RouteContext): Promise<Response> {
  const claims = await requireUser(ctx.req);
  const { channel_id } = await parseBody(ctx, DisconnectBody);
  const channel = await asUser(claims, async (tx) => {
    const [row] = await tx<{ id: string; workspace_id: string }[]>`select id, workspace_id from public.channels where id = ${channel_id}`;
    if (!row) throw new HttpError(404, 'not_found', 'channel not found');
    await requireRole(tx, row.workspace_id, 'owner', 'disconnect channels');
    return row;
  });

  // A sync of the channel writing at the same moment can deadlock with this (its steps lock the
  // run and the channel in the order their work needs); the loser is rolled back, so run it again.
  const refreshToken = await retryingConflicts(() =>
    asService(async (tx) => {
      const [row] = await tx<{ token: string | null }[]>`select private.delete_channel_credentials(${channel.id}) as token`;
      await tx`update public.channels set status = 'disconnected' where id = ${channel.id}`;
      await tx`
      update public.sync_runs set status = 'failed', last_error = 'the channel was disconnected', finished_at = now(),
        lease_owner = null, lease_expires_at = null, next_attempt_at = null
      where channel_id = ${channel.id} and status in ('queued', 'running', 'waiting_quota')`;
      return row?.token ?? null;
    }),
  );
  const revoked = refreshToken ? await revokeToken(refreshToken) : false;
  logEvent('info', 'youtube_channel_disconnected', {
    workspace_id: channel.workspace_id,
    channel_id: channel.id,
    revoked_at_google: revoked,
  });
  return json({ channel: { id: channel.id, status: 'disconnected' }, revoked_at_google: revoked });
}
