// youtube-sync: channel syncs from YouTube.
//   POST /         { channel_id }                 editor/owner "sync now": 202 with the run;
//                                                 429 + Retry-After within 5 min of the last one
//   GET  /runs     ?channel_id=&limit=            members: recent runs with status and progress
//   POST /worker   { run_id?, time_budget_ms?,    service role (pg_cron, and each invocation for the
//                    unbounded? }                 next): advances due runs by one budgeted share
import { z } from 'zod';
import { requireServiceRole } from '../_shared/platform/auth.ts';
import { asService, asUser, type Tx } from '../_shared/platform/db.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { HttpError, json, Router } from '../_shared/platform/http.ts';
import { parseBody } from '../_shared/platform/request.ts';
import { signedIn } from '../_shared/platform/signed-in.ts';
import { type Role, requireRole, Uuid } from '../_shared/platform/tenancy.ts';
import { parseCursor, parseStats, progressOf } from './cursor.ts';
import { runWorker } from './worker.ts';
import { queryInt } from '../_shared/platform/integers.ts';

const SyncNowBody = z.object({ channel_id: Uuid });
const RunsQuery = z.object({ channel_id: Uuid, limit: queryInt(z.number().int().min(1).max(100)).default(20) });
const WorkerBody = z.object({
  run_id: Uuid.optional(),
  time_budget_ms: z.number().int().min(0).max(55_000).optional(),
  unbounded: z.boolean().optional(),
});

interface RunRow {
  id: string;
  channel_id: string;
  trigger: string;
  status: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  cursor: unknown;
  stats: unknown;
}

function present(r: RunRow) {
  const cursor = parseCursor(r.cursor);
  const stats = parseStats(r.stats);
  return {
    id: r.id,
    channel_id: r.channel_id,
    trigger: r.trigger,
    status: r.status,
    attempts: r.attempts,
    last_error: r.last_error,
    next_attempt_at: r.next_attempt_at,
    created_at: r.created_at,
    started_at: r.started_at,
    finished_at: r.finished_at,
    progress: progressOf(cursor, stats),
    stats,
  };
}

/** The channel as the caller sees it (404 when RLS hides it), after checking their role. */
async function channelFor(tx: Tx, channelId: string, min: Role, action: string) {
  const [row] = await tx<{ id: string; workspace_id: string }[]>`select id, workspace_id from public.channels where id = ${channelId}`;
  if (!row) throw new HttpError(404, 'not_found', 'channel not found');
  await requireRole(tx, row.workspace_id, min, action);
  return row;
}

const RUN_COLUMNS =
  'id, channel_id, trigger, status, attempts, last_error, next_attempt_at, created_at, started_at, finished_at, cursor, stats';

export const router = new Router('youtube-sync')
  .on('POST', '/', async (ctx) => {
    const { claims, input } = await signedIn(ctx, { body: SyncNowBody });
    const { channel_id } = input;
    await asUser(claims, (tx) => channelFor(tx, channel_id, 'editor', 'sync channels'));
    const [r] = await asService(
      (tx) =>
        tx<{ outcome: string; sync_run_id: string | null; retry_after_seconds: number | null }[]>`
        select * from private.request_youtube_sync(${channel_id}, ${claims.sub})`,
    );
    switch (r.outcome) {
      case 'rate_limited':
        throw new HttpError(
          429,
          'rate_limited',
          `a sync of this channel was requested less than 5 minutes ago; try again in ${r.retry_after_seconds} s`,
          { retry_after_seconds: r.retry_after_seconds },
          { 'Retry-After': String(r.retry_after_seconds) },
        );
      case 'inactive':
        throw new HttpError(409, 'channel_inactive', 'the channel must be reconnected before it can sync');
      case 'not_found':
        throw new HttpError(404, 'not_found', 'channel not found');
    }
    const [run] = await asUser(
      claims,
      (tx) => tx<RunRow[]>`select ${tx.unsafe(RUN_COLUMNS)} from public.sync_runs where id = ${r.sync_run_id}`,
    );
    return json({ run: present(run), already_open: r.outcome === 'already_open' }, 202);
  })
  .on('GET', '/runs', async (ctx) => {
    const { claims, input: q } = await signedIn(ctx, { query: RunsQuery });
    const runs = await asUser(claims, async (tx) => {
      await channelFor(tx, q.channel_id, 'viewer', 'see syncs');
      return await tx<RunRow[]>`
        select ${tx.unsafe(RUN_COLUMNS)} from public.sync_runs where channel_id = ${q.channel_id}
        order by created_at desc limit ${q.limit}`;
    });
    return json({ runs: runs.map(present) });
  })
  .on('POST', '/worker', async (ctx) => {
    requireServiceRole(ctx.req);
    const body = await parseBody(ctx, WorkerBody);
    return json(await runWorker({ runId: body.run_id, timeBudgetMs: body.time_budget_ms, unbounded: body.unbounded }));
  });

export default createHandler(router);
