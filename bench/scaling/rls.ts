// RLS reads of a user who belongs to N workspaces: the videos page of one workspace (what every
// tenant table's policy does: workspace_id = any(array of the caller's workspaces)) and the
// channels of all of them. Each workspace has the same 200 videos and 2 channels, so the
// one-workspace read has the same answer at every size; only the membership grows.
import { asUser, baseline, load, makeUser, sample, ROUNDS, type Point, type Sql } from './common.ts';

const VIDEOS_PER_WORKSPACE = 200;

async function fixture(sql: Sql, workspaces: number) {
  const email = `scaling-rls-${workspaces}@example.com`;
  const { userId, workspaceId } = await makeUser(sql, email);
  // Workspaces owned by other users, with our user as an editor in each (invited members).
  await sql`
    with owners as (
      insert into auth.users (id, email, aud, role, raw_app_meta_data, raw_user_meta_data)
      select gen_random_uuid(), 'scaling-rls-' || ${workspaces}::int || '-owner-' || i || '@example.com', 'authenticated', 'authenticated', '{}', '{}'
      from generate_series(2, ${workspaces}) i returning id)
    select count(*) from owners`;
  await sql`
    insert into public.workspace_members (workspace_id, user_id, role)
    select m.workspace_id, ${userId}, 'editor' from public.workspace_members m join auth.users u on u.id = m.user_id
    where u.email like ${`scaling-rls-${workspaces}-owner-%`}`;
  const all = (await sql`select workspace_id from public.workspace_members where user_id = ${userId}`).map((r) => r.workspace_id as string);
  await sql`
    insert into public.channels (workspace_id, youtube_channel_id, title)
    select w, 'UCrls' || substr(md5(w::text || c), 1, 18), 'Channel ' || c from unnest(${all}::uuid[]) w, generate_series(1, 2) c`;
  await sql`
    insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at)
    select c.workspace_id, c.id, 'rl' || substr(md5(c.id::text), 1, 12) || i, 'Video ' || i, now() - i * interval '1 day'
    from public.channels c cross join generate_series(1, ${VIDEOS_PER_WORKSPACE / 2}) i where c.workspace_id = any (${all}::uuid[])`;
  await sql`analyze public.workspace_members, public.channels, public.videos`;
  return { userId, workspaceId };
}

export async function measureRls(sql: Sql, workspaces: number): Promise<Point> {
  const { userId, workspaceId } = await fixture(sql, workspaces);
  const as = asUser(sql, userId);
  const base = await baseline(sql);
  const page = await sample(ROUNDS * 5, () =>
    as(
      (tx) => tx`
    select id, title, published_at from public.videos where workspace_id = ${workspaceId} order by published_at desc limit 50`,
    ),
  );
  const own = await sample(ROUNDS * 5, () => as((tx) => tx`select id, title from public.channels where workspace_id = ${workspaceId}`));
  const allChannels = await sample(ROUNDS * 5, () => as((tx) => tx`select id, title from public.channels`));
  const [{ n }] = await as((tx) => tx`select count(*)::int as n from public.videos where workspace_id = ${workspaceId}`);
  if (n !== VIDEOS_PER_WORKSPACE) throw new Error(`rls fixture: ${n} videos visible in the workspace`);
  return {
    size: workspaces,
    value: page.p95,
    baseline_p95_ms: base,
    load_average: load(),
    details: { videos_page_ms: page, one_workspace_channels_ms: own, all_channels_ms: allChannels, visible_videos: n },
  };
}

export async function dropRls(sql: Sql, all: number[]) {
  for (const n of all) {
    await sql`delete from public.workspaces where created_by in (select id from auth.users where email like ${`scaling-rls-${n}%`})`;
    await sql`delete from auth.users where email like ${`scaling-rls-${n}%`}`;
  }
}
