// A workspace's YouTube channels: list them (members), and remove a disconnected one (owners).
//   GET    /?workspace_id=…  → { channels: [...], youtube_quota } channels with status, last sync
//                              and video count; the workspace's remaining share of today's quota
//   DELETE /:id              → { deleted: true, id }; the channel's videos, metrics, scores and
//                              sync runs go with it
// Connecting and disconnecting is youtube-oauth's job. A channel can belong to one workspace at a
// time, so removing the disconnected row is what lets it be connected to another workspace.
import { z } from 'zod';
import { requireUser } from '../_shared/platform/auth.ts';
import { asUser } from '../_shared/platform/db.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { HttpError, json, Router } from '../_shared/platform/http.ts';
import { noteWorkspace } from '../_shared/platform/observability/context.ts';
import { parseParams, parseQuery } from '../_shared/platform/request.ts';
import { requireRole, Uuid } from '../_shared/platform/tenancy.ts';

const ListQuery = z.strictObject({ workspace_id: Uuid });
const IdParams = z.object({ id: Uuid });

interface Channel {
  id: string;
  workspace_id: string;
  youtube_channel_id: string;
  title: string | null;
  thumbnail_url: string | null;
  status: 'active' | 'reauth_required' | 'disconnected';
  connected_at: Date | null;
  last_synced_at: Date | null;
  created_at: Date;
  video_count: number;
}

// The workspace's share of today's YouTube quota (Pacific day): what is left of the share, what
// can be spent now (the whole project's remainder after the borrow hour) and when that changes.
interface WorkspaceQuota {
  day: string;
  share_units: number;
  used_units: number;
  remaining_units: number;
  project_remaining_units: number;
  available_units: number;
  borrowing: boolean;
  borrow_from: Date;
  resets_at: Date;
}

function channelNotFound() {
  return new HttpError(404, 'not_found', 'channel not found');
}

export const router = new Router('channels')
  .on('GET', '/', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { workspace_id: workspaceId } = parseQuery(ctx, ListQuery);
    const { channels, quota } = await asUser(claims, async (tx) => {
      await requireRole(tx, workspaceId, 'viewer', 'see channels');
      const channels = await tx<Channel[]>`
        select c.id, c.workspace_id, c.youtube_channel_id, c.title, c.thumbnail_url, c.status, c.connected_at,
          c.last_synced_at, c.created_at, (select count(*)::int from public.videos v where v.channel_id = c.id) as video_count
        from public.channels c
        where c.workspace_id = ${workspaceId}
        order by c.created_at, c.id`;
      const [quota] = await tx<WorkspaceQuota[]>`
        select q.day::text as day, q.share_units, q.used_units, q.remaining_units, q.project_remaining_units,
          q.available_units, q.borrowing, q.borrow_from, q.resets_at
        from public.workspace_youtube_quota(${workspaceId}) q`;
      return { channels, quota };
    });
    return json({ channels, youtube_quota: quota ?? null });
  })
  .on('DELETE', '/:id', async (ctx) => {
    const claims = await requireUser(ctx.req);
    const { id } = parseParams(ctx, IdParams);
    await asUser(claims, async (tx) => {
      const [channel] = await tx<{ workspace_id: string; status: Channel['status'] }[]>`
        select workspace_id, status from public.channels where id = ${id}`;
      if (!channel) throw channelNotFound();
      noteWorkspace(ctx.req, channel.workspace_id);
      await requireRole(tx, channel.workspace_id, 'owner', 'remove a channel');
      // Schedules can only be created for an active channel, so once it is disconnected the
      // count of unfinished uploads below cannot grow before the delete.
      if (channel.status !== 'disconnected') {
        throw new HttpError(409, 'channel_connected', 'disconnect the channel first (youtube-oauth/disconnect), then remove it', {
          status: channel.status,
        });
      }
      const [{ pending }] = await tx<{ pending: number }[]>`
        select count(*)::int as pending from public.upload_schedules where channel_id = ${id} and finished_at is null`;
      if (pending > 0) {
        throw new HttpError(409, 'uploads_pending', `${pending} upload(s) to this channel are not finished; cancel them first`, {
          pending,
        });
      }
      await tx`delete from public.channels where id = ${id}`;
    });
    return json({ deleted: true, id });
  });

export default createHandler(router);
