// schedules: publishing ready renders to YouTube at a set time.
//   GET    /?workspace_id=&from=&to=&channel_id=&status=&limit=   members: the calendar range
//   POST   /                       editors/owners: schedule a ready render (Idempotency-Key header)
//   GET    /:id                    members: one schedule with its events
//   PATCH  /:id                    editors/owners: edit (before the upload starts)
//   POST   /:id/reschedule         editors/owners: { publish_at, time_zone?, strategy?, version? }
//   POST   /:id/cancel             editors/owners: before or during the upload
//   POST   /:id/publish-now        editors/owners: upload now with the final privacy
//   GET    /settings?workspace_id= members; PUT /settings owners: missed-schedule policy, upload lead
//   POST   /worker                 service role (pg_cron, and pg_net for the next step): one bounded
//                                  step of what is due { schedule_id?, step_bytes?, time_budget_ms?, ... }
import { requireServiceRole } from '../_shared/platform/auth.ts';
import { sha256Hex } from '../_shared/integrations/youtube/oauth-client.ts';
import { asUser, type Tx } from '../_shared/platform/db.ts';
import { createHandler } from '../_shared/platform/handler.ts';
import { HttpError, json, Router, validate, type RouteContext } from '../_shared/platform/http.ts';
import { rethrowPg } from '../_shared/platform/pg-errors.ts';
import { parseBody } from '../_shared/platform/request.ts';
import { asMember, signedIn } from '../_shared/platform/signed-in.ts';
import { requireRole } from '../_shared/platform/tenancy.ts';
import { eventsOf, listSchedules, present, profileTimeZone, readSchedule, scheduleNotFound } from './api.ts';
import {
  CreateBody,
  IdempotencyKey,
  IdParams,
  ListQuery,
  RescheduleBody,
  SettingsBody,
  SettingsQuery,
  UpdateBody,
  WorkerBody,
} from './validation.ts';
import { runWorker } from './worker.ts';

const DAY_MS = 86_400_000;

/**
 * Runs `fn`, turning the database's schedule verdicts into HTTP errors; `renameField` names the
 * field a request actually sent when one rule is reached through two (strategy or privacy).
 */
async function mapped<T>(fn: () => Promise<T>, renameField?: Record<string, string>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    rethrowPg(err, { area: 'schedules', renameField });
  }
}

/** The schedule as the caller sees it, after checking their role in its workspace (404 when invisible). */
async function visibleSchedule(tx: Tx, id: string, min: 'viewer' | 'editor', action: string) {
  const schedule = await readSchedule(tx, id);
  if (!schedule) throw scheduleNotFound();
  await requireRole(tx, schedule.workspace_id, min, action);
  return schedule;
}

function idempotencyKey(ctx: RouteContext): string {
  const raw = ctx.req.headers.get('idempotency-key');
  if (raw === null) return crypto.randomUUID();
  return validate(IdempotencyKey, raw, 'Idempotency-Key');
}

/** A stable text of an object (keys sorted at every level), for request fingerprints. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * An editor's change of the schedule at /:id: `change` runs in the caller's transaction once the
 * schedule is visible (404) and their role at least editor (403), with the database's verdicts
 * turned into HTTP errors (`renameField` as for `mapped`).
 */
async function changeSchedule<T>(
  ctx: RouteContext,
  action: string,
  change: (tx: Tx, id: string) => Promise<T>,
  renameField?: Record<string, string>,
): Promise<T> {
  const { claims, input } = await signedIn(ctx, { params: IdParams });
  return await mapped(
    () =>
      asUser(claims, async (tx) => {
        await visibleSchedule(tx, input.id, 'editor', action);
        return await change(tx, input.id);
      }),
    renameField,
  );
}

function edit(ctx: RouteContext, changes: Record<string, unknown>, version: number | undefined) {
  const field = 'strategy' in changes ? 'strategy' : 'privacy';
  const update = async (tx: Tx, id: string) => {
    await tx`select 1 from public.update_upload_schedule(${id}, ${tx.json(changes as Parameters<Tx['json']>[0])}, ${version ?? null}::integer)`;
    return present((await readSchedule(tx, id))!);
  };
  return changeSchedule(ctx, 'change schedules', update, { strategy: field });
}

export const router = new Router('schedules')
  .on('GET', '/settings', async (ctx) => {
    const { claims, input } = await signedIn(ctx, { query: SettingsQuery });
    const { workspace_id } = input;
    const settings = await asMember(claims, { id: workspace_id, min: 'viewer', action: 'see settings' }, async (tx) => {
      const [row] = await tx<
        { missed_schedule_policy: string; upload_lead_minutes: number; updated_by: string | null; updated_at: Date | null }[]
      >`
        select missed_schedule_policy, upload_lead_minutes, updated_by, updated_at from public.workspace_settings where workspace_id = ${workspace_id}`;
      return {
        workspace_id,
        missed_schedule_policy: row?.missed_schedule_policy ?? 'publish_late',
        upload_lead_minutes: row?.upload_lead_minutes ?? 60,
        updated_by: row?.updated_by ?? null,
        updated_at: row?.updated_at ?? null,
      };
    });
    return json({ settings });
  })
  .on('PUT', '/settings', async (ctx) => {
    const { claims, input: body } = await signedIn(ctx, { body: SettingsBody });
    const owner = { id: body.workspace_id, min: 'owner', action: 'change how schedules are published' } as const;
    const settings = await mapped(() =>
      asMember(claims, owner, async (tx) => {
        const [row] = await tx`
          select workspace_id, missed_schedule_policy, upload_lead_minutes, updated_by, updated_at
          from public.update_workspace_settings(${body.workspace_id}, ${body.missed_schedule_policy ?? null}, ${body.upload_lead_minutes ?? null}::integer)`;
        return row;
      }),
    );
    return json({ settings });
  })
  .on('POST', '/worker', async (ctx) => {
    requireServiceRole(ctx.req);
    const body = await parseBody(ctx, WorkerBody);
    // A paused upload's next step runs with the same step options (stepOptions); not with these.
    const { schedule_id, claim_budget_ms, worker_id, wait_until, wait_ms, handover, ...stepOptions } = body;
    return json(
      await runWorker({
        workerId: worker_id,
        scheduleId: schedule_id,
        claimBudgetMs: claim_budget_ms,
        waitUntil: wait_until,
        waitMs: wait_ms,
        timeBudgetMs: body.time_budget_ms,
        concurrency: body.concurrency,
        leaseSeconds: body.lease_seconds,
        stepBytes: body.step_bytes,
        handover,
        nextCall: stepOptions,
      }),
    );
  })
  .on('GET', '/', async (ctx) => {
    const { claims, input: q } = await signedIn(ctx, { query: ListQuery });
    const from = q.from ? new Date(q.from) : new Date(Date.now() - 7 * DAY_MS);
    const to = q.to ? new Date(q.to) : new Date(from.getTime() + 67 * DAY_MS);
    const schedules = await asMember(claims, { id: q.workspace_id, min: 'viewer', action: 'see schedules' }, async (tx) => {
      return await listSchedules(tx, {
        workspaceId: q.workspace_id,
        from,
        to,
        channelId: q.channel_id,
        statuses: q.status,
        limit: q.limit,
      });
    });
    return json({ range: { from, to }, schedules: schedules.map(present) });
  })
  .on('POST', '/', async (ctx) => {
    const { claims, input: body } = await signedIn(ctx, { body: CreateBody });
    const key = idempotencyKey(ctx);
    const result = await mapped(() =>
      asMember(claims, { id: body.workspace_id, min: 'editor', action: 'schedule uploads' }, async (tx) => {
        const timeZone = body.time_zone ?? (await profileTimeZone(tx));
        const strategy = body.strategy ?? (body.privacy === 'public' ? 'youtube_scheduled' : 'upload_at_time');
        const request = { ...body, thumbnail_url: body.thumbnail_url ?? null, time_zone: timeZone, strategy };
        const fingerprint = await sha256Hex(canonical(request));
        const [r] = await tx<{ outcome: string; schedule_id: string }[]>`
          select * from public.create_upload_schedule(${body.workspace_id}, ${body.channel_id}, ${body.video_job_id},
            ${body.title}, ${body.description}, ${body.tags}::text[], ${body.category_id}, ${body.privacy}, ${body.made_for_kids},
            ${body.notify_subscribers}, ${request.thumbnail_url}, ${body.publish_at}, ${timeZone}, ${strategy}, ${key}, ${fingerprint})`;
        if (r.outcome === 'key_conflict') {
          throw new HttpError(409, 'idempotency_key_reused', 'this Idempotency-Key was used for a different schedule', {
            schedule_id: r.schedule_id,
          });
        }
        return { outcome: r.outcome, schedule: present((await readSchedule(tx, r.schedule_id))!) };
      }),
    );
    return json({ schedule: result.schedule, replayed: result.outcome === 'existing' }, result.outcome === 'created' ? 201 : 200);
  })
  .on('GET', '/:id', async (ctx) => {
    const { claims, input } = await signedIn(ctx, { params: IdParams });
    const answer = await asUser(claims, async (tx) => {
      const schedule = await visibleSchedule(tx, input.id, 'viewer', 'see schedules');
      return { schedule: present(schedule), events: await eventsOf(tx, input.id) };
    });
    return json(answer);
  })
  .on('PATCH', '/:id', async (ctx) => {
    const { version, ...changes } = await parseBody(ctx, UpdateBody);
    return json({ schedule: await edit(ctx, changes, version) });
  })
  .on('POST', '/:id/reschedule', async (ctx) => {
    const { version, ...changes } = await parseBody(ctx, RescheduleBody);
    return json({ schedule: await edit(ctx, changes, version) });
  })
  .on('POST', '/:id/cancel', async (ctx) => {
    const answer = await changeSchedule(ctx, 'cancel schedules', async (tx, id) => {
      const [r] = await tx<{ outcome: string }[]>`select outcome from public.cancel_upload_schedule(${id})`;
      return { schedule: present((await readSchedule(tx, id))!), already_canceled: r.outcome === 'already_canceled' };
    });
    return json(answer);
  })
  .on('POST', '/:id/publish-now', async (ctx) => {
    const schedule = await changeSchedule(ctx, 'publish schedules', async (tx, id) => {
      await tx`select 1 from public.publish_upload_schedule_now(${id})`;
      return present((await readSchedule(tx, id))!);
    });
    return json({ schedule });
  });

export default createHandler(router);
