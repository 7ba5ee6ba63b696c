// What the API would ever store, row by row: the oracle the walk judges every successful direct
// write by. Where the API's own zod schemas are importable they are used as they are (content
// kinds, schedule fields), so the database is held to exactly the API's rules; the others restate
// the handler's schema and say where it lives. A table members can write that has no oracle here
// fails the walk (see db-surface.test.ts), so a new table cannot escape it.
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { outputSchema, type ContentKind } from '../../../supabase/functions/_shared/domain/content-kinds.ts';
import * as schedule from '../../../supabase/functions/schedules/validation.ts';
import { lit, type Session, type Snapshot } from './session.ts';

type Row = Record<string, unknown>;
type Oracle = (row: Row, before: Snapshot, after: Snapshot) => string[];

const jsTrimmed = (v: unknown, max: number, min = 1) => typeof v === 'string' && v === v.trim() && v.length >= min && v.length <= max;
const instant = (v: unknown) => typeof v === 'string' && Number.isFinite(Date.parse(v)) && /^\d{4}-/.test(v);
const zodProblem = (schema: z.ZodType, v: unknown) => {
  const r = schema.safeParse(v);
  if (!r.success) return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  return isDeepStrictEqual(r.data, v) ? null : 'stored differently from what the API stores (not normalised)';
};
const rule = (ok: boolean, what: string) => (ok ? [] : [what]);

// workspaces/handler.ts Name and Slug
function workspaceRules(w: Row): string[] {
  return [
    ...rule(jsTrimmed(w.name, 100), `name ${JSON.stringify(String(w.name).slice(0, 40))} is not 1-100 trimmed characters`),
    ...rule(w.slug === null || (typeof w.slug === 'string' && w.slug.length <= 64 && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(w.slug)), 'slug'),
  ];
}

// account/handler.ts ProfileUpdate
function profileRules(p: Row): string[] {
  const avatar = p.avatar_url;
  let https = avatar === null;
  if (typeof avatar === 'string') https = avatar.length <= 2048 && URL.canParse(avatar) && new URL(avatar).protocol === 'https:';
  return [
    ...rule(jsTrimmed(p.display_name, 100), 'display_name is not 1-100 trimmed characters'),
    ...rule(https, 'avatar_url is not an https URL'),
    ...rule(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(String(p.locale)), 'locale'),
    ...rule(String(p.timezone).length <= 64 && schedule.isTimeZone(String(p.timezone)), 'timezone'),
  ];
}

// invitations/handler.ts CreateBody (email), the expiry the API gives (7 days) and DELETE (revoke now, for good)
const InvitationEmail = z.string().trim().toLowerCase().max(320).pipe(z.email());
function invitationRules(i: Row, before: Snapshot): string[] {
  const was = before.invitations.find((b) => b.id === i.id);
  const week = 7 * 86_400_000 + 1000;
  return [
    ...rule(zodProblem(InvitationEmail, i.email) === null, `email ${JSON.stringify(i.email)}`),
    ...rule(
      instant(i.expires_at) && Date.parse(String(i.expires_at)) - Date.parse(String(i.created_at)) <= week,
      `expires_at ${i.expires_at} is not within 7 days of creation`,
    ),
    ...rule(
      i.revoked_at === null || (instant(i.revoked_at) && Date.parse(String(i.revoked_at)) <= Date.now() + 60_000),
      `revoked_at ${i.revoked_at} is not a time of revocation`,
    ),
    ...rule(!was || was.revoked_at === null || was.revoked_at === i.revoked_at, 'a revocation was changed or undone'),
  ];
}

// generate-content/handler.ts Body, as stored in brief
const Brief = z.strictObject({
  topic: z.string().max(200).nullable().optional(),
  brief: z.string().max(4000).nullable().optional(),
  tone: z.string().max(60).optional(),
  language: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/)
    .optional(),
  target_format: z.enum(['short', 'long_form']).optional(),
  count: z.number().int().min(1).max(10).optional(),
  channel_id: z.uuid().nullable().optional(),
});

function contentRules(c: Row): string[] {
  const output = zodProblem(outputSchema(c.kind as ContentKind), c.output);
  const sources = c.source_videos;
  return [
    ...rule(output === null, `output: ${output}`),
    ...rule(zodProblem(Brief, c.brief) === null, 'brief holds what the API never stores'),
    ...rule(Array.isArray(sources) && sources.length <= 50 && JSON.stringify(sources).length <= 65_536, 'source_videos unbounded'),
    ...rule(c.rejection_reason === null || jsTrimmed(c.rejection_reason, 1000, 3), 'rejection_reason (content/handler.ts RejectBody)'),
  ];
}

function versionRules(v: Row): string[] {
  const output = zodProblem(outputSchema(v.kind as ContentKind), v.output);
  return [...rule(output === null, `output: ${output}`), ...rule(v.note === null || jsTrimmed(v.note, 500), 'note')];
}

// schedules/validation.ts, field by field as create and update accept them
function scheduleRules(s: Row): string[] {
  const fields: [string, z.ZodType][] = [
    ['title', schedule.Title],
    ['description', schedule.Description],
    ['tags', schedule.Tags],
    ['category_id', schedule.CategoryId],
    ['privacy', schedule.Privacy],
    ['strategy', schedule.Strategy],
    ['time_zone', schedule.TimeZone],
    ['idempotency_key', schedule.IdempotencyKey],
  ];
  const problems = fields.flatMap(([name, zs]) => {
    const p = zodProblem(zs, s[name]);
    return p ? [`${name}: ${p}`] : [];
  });
  if (s.thumbnail_url !== null && zodProblem(schedule.ThumbnailUrl, s.thumbnail_url)) problems.push('thumbnail_url');
  if (!instant(s.publish_at)) problems.push(`publish_at ${s.publish_at} is not an ISO 8601 time`);
  if (s.strategy === 'youtube_scheduled' && s.privacy !== 'public') problems.push('youtube_scheduled needs public');
  return problems;
}

// channels/handler.ts DELETE: only disconnected, without unfinished uploads (deleting the whole
// workspace takes its channels along, as DELETE /workspaces/:id does)
function channelRemovalRules(before: Snapshot, after: Snapshot): string[] {
  return before.channels
    .filter((c) => !after.channels.some((a) => a.id === c.id) && after.workspaces.some((w) => w.id === c.workspace_id))
    .flatMap((c) => {
      const pending = before.upload_schedules.filter((s) => s.channel_id === c.id && s.finished_at === null).length;
      return rule(c.status === 'disconnected' && pending === 0, `channel ${c.status} with ${pending} pending upload(s) was removed`);
    });
}

// members: a workspace that had an owner keeps one (the last-owner rule)
function ownerRules(before: Snapshot, after: Snapshot): string[] {
  const owners = (s: Snapshot) => new Set(s.workspace_members.filter((m) => m.role === 'owner').map((m) => m.workspace_id));
  const had = owners(before);
  const has = owners(after);
  return after.workspaces.filter((w) => had.has(w.id) && !has.has(w.id)).map((w) => `workspace ${w.id} lost its last owner`);
}

export const ROW_ORACLES: Record<string, Oracle> = {
  workspaces: (r) => workspaceRules(r),
  workspace_members: (r) => rule(['viewer', 'editor', 'owner'].includes(String(r.role)), 'role'),
  invitations: (r, b) => invitationRules(r, b),
  profiles: (r) => profileRules(r),
  channels: () => [],
  generated_content: (r) => contentRules(r),
  content_versions: (r) => versionRules(r),
  content_transitions: (r) => rule(r.action !== 'reject' || jsTrimmed(r.reason, 1000, 3), 'reject reason'),
  upload_schedules: (r) => scheduleRules(r),
  // schedules/validation.ts SettingsBody
  // notifications/handler.ts PreferencesBody: any boolean per category is what the API stores;
  // whose row it is, RLS decides (tests/db/80-notifications.test.sql)
  notification_preferences: () => [],
  workspace_settings: (r) =>
    rule(
      schedule.MISSED_POLICIES.includes(r.missed_schedule_policy as 'hold') &&
        Number.isInteger(r.upload_lead_minutes) &&
        Number(r.upload_lead_minutes) >= 1 &&
        Number(r.upload_lead_minutes) <= 10080,
      'settings',
    ),
};

/** Every rule broken in `after`, each named with its table and row. */
export function violations(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const [table, oracle] of Object.entries(ROW_ORACLES)) {
    for (const row of after[table] ?? []) {
      for (const problem of oracle(row, before, after)) out.push(`${table} ${row.id ?? row.workspace_id ?? ''}: ${problem}`);
    }
  }
  return [...out, ...channelRemovalRules(before, after), ...ownerRules(before, after)];
}

/** The rows the oracles judge: everything of the walk's workspace and its members' profiles. */
export function snapshotOf(ws: string, users: string[]) {
  const w = lit(ws);
  const u = users.map(lit).join(', ');
  const agg = (from: string) => `(select coalesce(jsonb_agg(to_jsonb(t)), '[]') from (${from}) t)`;
  const statement = `select jsonb_build_object(
    'workspaces', ${agg(`select * from public.workspaces where id = ${w}`)},
    'workspace_members', ${agg(`select * from public.workspace_members where workspace_id = ${w}`)},
    'invitations', ${agg(`select * from public.invitations where workspace_id = ${w}`)},
    'profiles', ${agg(`select * from public.profiles where id in (${u})`)},
    'notification_preferences', ${agg(`select * from public.notification_preferences where user_id in (${u})`)},
    'channels', ${agg(`select * from public.channels where workspace_id = ${w}`)},
    'generated_content', ${agg(`select * from public.generated_content where workspace_id = ${w}`)},
    'content_versions', ${agg(`select v.*, g.kind from public.content_versions v join public.generated_content g on g.id = v.content_id where v.workspace_id = ${w}`)},
    'content_transitions', ${agg(`select * from public.content_transitions where workspace_id = ${w}`)},
    'upload_schedules', ${agg(`select * from public.upload_schedules where workspace_id = ${w}`)},
    'workspace_settings', ${agg(`select * from public.workspace_settings where workspace_id = ${w}`)}
  ) as snapshot`;
  return async (s: Session): Promise<Snapshot> => (await s.query<{ snapshot: Snapshot }>(statement))[0].snapshot;
}
