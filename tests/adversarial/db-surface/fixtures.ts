// The tenant the walk attacks from inside: a team workspace with an owner, an editor and a viewer,
// and one row of each kind a member can touch (channels connected, disconnected and disconnected
// with an unfinished upload; content approved, draft and in review; a ready render; a schedule;
// invitations pending and revoked; settings). Written as the superuser inside the walk's
// transaction, so it never outlives the test.
import { lit, type Actor, type Session } from './session.ts';

export interface Fixture {
  owner: Actor;
  editor: Actor;
  viewer: Actor;
  ids: Record<string, string>;
}

/** A script output as the API stores it (kinds.ts: every field present and trimmed). */
export const VALID_SCRIPT = {
  items: [{ title: 'A title', hook: 'Watch this.', script: 'The script.', call_to_action: 'Subscribe.', estimated_duration_seconds: 30 }],
};

async function user(s: Session, name: string): Promise<Actor> {
  const email = `${name}-${crypto.randomUUID().slice(0, 8)}@example.test`;
  const [row] = await s.query<{ id: string }>(`
    insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
      confirmation_token, recovery_token, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
    values ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated', ${lit(email)},
      '', now(), '', '', '{"provider": "email", "providers": ["email"]}', '{}', now(), now())
    returning id`);
  return { name, id: row.id, email };
}

async function insertId(s: Session, statement: string): Promise<string> {
  const [row] = await s.query<{ id: string }>(statement);
  return row.id;
}

async function channels(s: Session, ws: string): Promise<Record<string, string>> {
  const channel = (yt: string, status: string) =>
    insertId(
      s,
      `
    insert into public.channels (workspace_id, youtube_channel_id, title, status)
    values (${lit(ws)}, ${lit(yt + crypto.randomUUID().slice(0, 8))}, 'Channel', ${lit(status)}) returning id`,
    );
  return {
    channel: await channel('UCadvActive', 'active'),
    gone_channel: await channel('UCadvGone', 'disconnected'),
    busy_channel: await channel('UCadvBusy', 'active'),
  };
}

async function content(s: Session, ws: string, by: string): Promise<Record<string, string>> {
  const row = (status: string, approved: string) =>
    insertId(
      s,
      `
    insert into public.generated_content (workspace_id, kind, brief, prompt_version, model, output, status, approved_version,
      created_by, submitted_at, submitted_by)
    values (${lit(ws)}, 'script', '{"topic": "walk"}', 'v1', 'gemini-test', ${lit(JSON.stringify(VALID_SCRIPT))}, ${lit(status)},
      ${approved}, ${lit(by)}, now(), ${lit(by)}) returning id`,
    );
  const ids = { approved: await row('approved', '1'), draft: await row('draft', 'null'), in_review: await row('in_review', 'null') };
  await s.query(`
    insert into public.content_versions (workspace_id, content_id, version, output, created_by)
    select ${lit(ws)}, id, 1, output, created_by from public.generated_content where id in (${Object.values(ids).map(lit).join(', ')})`);
  return ids;
}

async function scheduling(s: Session, ws: string, ids: Record<string, string>): Promise<Record<string, string>> {
  const job = await insertId(
    s,
    `
    insert into public.video_jobs (workspace_id, content_id, content_version, render_params, status, progress, video_url,
      webhook_secret_hash, give_up_at, idempotency_key, request_fingerprint, finished_at)
    values (${lit(ws)}, ${lit(ids.approved)}, 1, '{}', 'ready', 100, 'https://cdn.example.test/v.mp4', repeat('a', 64),
      now() + interval '1 hour', 'walk-ready', repeat('a', 64), now()) returning id`,
  );
  const schedule = (channel: string, key: string) =>
    insertId(
      s,
      `
    insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, next_attempt_at,
      idempotency_key, request_fingerprint)
    values (${lit(ws)}, ${lit(channel)}, ${lit(job)}, 'Scheduled', now() + interval '2 days', now() + interval '2 days',
      ${lit(key)}, repeat('1', 64)) returning id`,
    );
  const result = { job, schedule: await schedule(ids.channel, 'walk-1'), busy_schedule: await schedule(ids.busy_channel, 'walk-2') };
  // the busy channel is disconnected with its upload still open
  await s.query(`update public.channels set status = 'disconnected' where id = ${lit(ids.busy_channel)}`);
  await s.query(`insert into public.workspace_settings (workspace_id) values (${lit(ws)})`);
  return result;
}

async function invitations(s: Session, ws: string, owner: string): Promise<Record<string, string>> {
  const invite = (email: string, revoked: string) =>
    insertId(
      s,
      `
    insert into public.invitations (workspace_id, email, role, token_hash, invited_by, revoked_at)
    values (${lit(ws)}, ${lit(email)}, 'viewer', encode(sha256(convert_to(gen_random_uuid()::text, 'UTF8')), 'hex'), ${lit(owner)}, ${revoked}) returning id`,
    );
  return { invitation: await invite('pending@example.test', 'null'), revoked_invitation: await invite('revoked@example.test', 'now()') };
}

export async function createFixture(s: Session): Promise<Fixture> {
  const owner = await user(s, 'walk-owner');
  const editor = await user(s, 'walk-editor');
  const viewer = await user(s, 'walk-viewer');
  const ws = await insertId(
    s,
    `
    insert into public.workspaces (name, slug, personal, created_by)
    values ('Walk team', ${lit('walk-' + crypto.randomUUID().slice(0, 8))}, false, ${lit(owner.id)}) returning id`,
  );
  await s.query(`
    insert into public.workspace_members (workspace_id, user_id, role)
    values (${lit(ws)}, ${lit(owner.id)}, 'owner'), (${lit(ws)}, ${lit(editor.id)}, 'editor'), (${lit(ws)}, ${lit(viewer.id)}, 'viewer')`);
  const ids: Record<string, string> = { ws, ...(await channels(s, ws)) };
  Object.assign(ids, await content(s, ws, owner.id));
  Object.assign(ids, await scheduling(s, ws, ids));
  Object.assign(ids, await invitations(s, ws, owner.id));
  return { owner, editor, viewer, ids };
}
