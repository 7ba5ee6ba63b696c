// Two tenants with one of everything a route can name (workspaces, a connected channel, approved
// content, a ready render, a schedule, an invitation, a sync run, a member), made through the API
// where the API makes them and straight in the database where only a worker or Google would.
// The victim's names carry a marker, so an answer that shows any of the victim's data is found
// by searching for the marker or one of the victim's ids.
import { approvedScript } from '../functions/helpers/content.ts';
import { createAdmin } from '../functions/helpers/ops.ts';
import { createSchedule, studio } from '../functions/helpers/schedules.ts';
import { addMember, createWorkspace, signUp, withDb, type TestUser } from '../functions/helpers/users.ts';
import type { TenantIds } from './routes-fields.ts';

export interface Tenant {
  user: TestUser;
  ids: TenantIds;
  /** Found in the victim's names; must never appear in an answer to anyone else. */
  marker: string;
}

// A bigint alert id that no alert has: the admin routes are walked against it.
const NO_ALERT = '987654321987';
const NO_SNAPSHOT = '00000000-0000-4000-8000-00000000abcd';

async function syncRun(user: TestUser, channel: string): Promise<string> {
  const res = await user.call('youtube-sync', { method: 'POST', body: { channel_id: channel } });
  if (res.status !== 202) throw new Error(`sync failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.run?.id ?? res.body.id;
}

export async function tenant(label: string): Promise<Tenant> {
  const marker = `zz${label}${crypto.randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const s = await studio(`adv-${label}`);
  const team = await createWorkspace(s.user, `${marker} team`);
  const helper = await signUp(`adv-${label}-helper`);
  await addMember(s.user, team, helper, 'editor');
  const content = await approvedScript(s.user, s.workspaceId, `${marker} sourdough`);
  const schedule = await createSchedule(s, { title: `${marker} video` });
  const invited = await s.user.call('invitations', {
    method: 'POST',
    body: { workspace_id: team, email: `adv-${label}-guest-${crypto.randomUUID().slice(0, 8)}@example.com`, role: 'viewer' },
  });
  if (invited.status !== 201) throw new Error(`invitation failed: ${invited.status} ${JSON.stringify(invited.body)}`);
  return {
    user: s.user,
    marker,
    ids: {
      workspace: s.workspaceId,
      team,
      channel: s.channelId,
      content,
      job: s.render.videoJobId,
      schedule: schedule.id,
      invitation: invited.body.invitation.id,
      run: await syncRun(s.user, s.channelId),
      member: helper.id,
      alert: NO_ALERT,
      snapshot: NO_SNAPSHOT,
    },
  };
}

export interface Cast {
  attacker: Tenant;
  victim: Tenant;
  admin: TestUser;
}

export async function cast(): Promise<Cast> {
  const [attacker, victim] = [await tenant('a'), await tenant('b')];
  return { attacker, victim, admin: await createAdmin('adv-admin') };
}

/** Lets the walk's thousands of calls through the per-user minute limit (test set-up only). */
export async function resetRateLimits(userIds: string[]): Promise<void> {
  await withDb((sql) => sql`delete from ops.rate_limits where user_id = any(${userIds}::uuid[])`);
}

/** The victim's data that only the victim (or the attacker, wrongly) could change during the walk. */
export async function victimView(v: Tenant): Promise<Record<string, unknown>> {
  return await withDb(async (sql) => {
    const ws = [v.ids.workspace, v.ids.team];
    return {
      workspaces: await sql`select id, name, slug from public.workspaces where id = any(${ws}::uuid[]) order by id`,
      members:
        await sql`select workspace_id, user_id, role from public.workspace_members where workspace_id = any(${ws}::uuid[]) order by 1, 2`,
      // Not the title or status: the victim's own sync rewrites those from YouTube meanwhile.
      channels: await sql`select id, workspace_id from public.channels where workspace_id = any(${ws}::uuid[]) order by id`,
      content: await sql`select id, status, output from public.generated_content where workspace_id = any(${ws}::uuid[]) order by id`,
      jobs: await sql`select id, status from public.video_jobs where workspace_id = any(${ws}::uuid[]) order by id`,
      schedules:
        await sql`select id, title, status, publish_at from public.upload_schedules where workspace_id = any(${ws}::uuid[]) order by id`,
      invitations:
        await sql`select id, revoked_at, accepted_at from public.invitations where workspace_id = any(${ws}::uuid[]) order by id`,
    };
  });
}
