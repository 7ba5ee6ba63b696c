// The data of the reads-limits benchmark: users through the auth API (as a person signs up; the
// admin as an operator creates one), and a workspace of 10,000 videos x 365 days of daily metrics
// generated in SQL. The big workspace is kept between runs (it takes minutes to build) and
// recognised by its owner's email and its row count.
import type postgres from 'postgres';

export interface User {
  id: string;
  email: string;
  token: string;
}

type Env = Record<string, string | undefined>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function authJson(env: Env, path: string, body: unknown, key = env.SUPABASE_ANON_KEY!): Promise<{ status: number; body: any }> {
  const res = await fetch(`${env.SUPABASE_URL}/auth/v1/${path}`, {
    method: 'POST',
    headers: { apikey: key, Authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** Signs in `email`, creating the user first when it does not exist (admin: app_metadata.role). */
export async function userNamed(env: Env, email: string, admin = false): Promise<User> {
  const password = 'reads-limits-bench-password';
  let session = await authJson(env, 'token?grant_type=password', { email, password });
  if (session.status !== 200) {
    // Sign-up needs email confirmation, so users are created confirmed through the admin API.
    const created = await authJson(
      env,
      'admin/users',
      { email, password, email_confirm: true, ...(admin ? { app_metadata: { role: 'admin' } } : {}) },
      env.SUPABASE_SERVICE_ROLE_KEY!,
    );
    if (created.status !== 200) throw new Error(`creating ${email}: ${created.status} ${JSON.stringify(created.body)}`);
    session = await authJson(env, 'token?grant_type=password', { email, password });
  }
  if (session.status !== 200) throw new Error(`signing in ${email}: ${session.status} ${JSON.stringify(session.body)}`);
  return { id: session.body.user.id, email, token: session.body.access_token };
}

export interface Shape {
  channels: number;
  videos: number;
  days: number;
}

/** The user's personal workspace, filled to `shape` unless it already holds exactly that. */
export async function filledWorkspace(
  sql: postgres.Sql,
  owner: User,
  shape: Shape,
): Promise<{ workspaceId: string; seeded: boolean; seconds: number }> {
  const [{ id: workspaceId }] = await sql<{ id: string }[]>`
    select w.id from public.workspaces w join public.workspace_members m on m.workspace_id = w.id
    where m.user_id = ${owner.id} and w.personal`;
  const [{ videos, metrics }] = await sql<{ videos: number; metrics: number }[]>`
    select (select count(*)::int from public.videos where workspace_id = ${workspaceId}) as videos,
      (select count(*)::int from public.video_metrics where workspace_id = ${workspaceId}) as metrics`;
  if (videos === shape.videos && metrics === shape.videos * shape.days) return { workspaceId, seeded: false, seconds: 0 };
  const t0 = performance.now();
  // Metrics first, by their own index: a cascade would check millions of rows one by one.
  await sql`delete from public.video_metrics where workspace_id = ${workspaceId}`;
  await sql`delete from public.channels where workspace_id = ${workspaceId}`;
  const channels = await sql<{ id: string }[]>`
    insert into public.channels (workspace_id, youtube_channel_id, title, status, last_synced_at)
    select ${workspaceId}, 'UCrl' || c || substr(md5(${workspaceId}::text), 1, 10), 'Reads bench channel ' || c, 'active', now()
    from generate_series(1, ${shape.channels}) c returning id`;
  const perChannel = Math.ceil(shape.videos / shape.channels);
  // Published before the first metric day, so every video has `days` days of data.
  await sql`
    insert into public.videos (workspace_id, channel_id, youtube_video_id, title, description, published_at,
      duration_seconds, is_short, tags, view_count, like_count, comment_count)
    select ${workspaceId}, c.id, 'rl' || substr(md5(c.id::text), 1, 8) || n, 'Bench video ' || n || ' about one-pan dinners',
      'A description of video ' || n || ' with a few sentences, as creators write them.',
      current_date - ${shape.days + 1}::int - (n % 400) + interval '17 hours', 30 + n * 37 % 1800, n % 5 = 0,
      array['cooking', 'dinner', 'tag' || n % 50], 1000 + n, 10 + n % 100, n % 40
    from unnest(${channels.map((c) => c.id)}::uuid[]) as c(id), generate_series(1, ${perChannel}) n
    limit ${shape.videos}`;
  await insertMetrics(sql, workspaceId, shape);
  await sql`vacuum (analyze) public.video_metrics, public.videos, private.video_metric_totals`;
  for (const c of channels) await sql`select private.score_channel_videos(${c.id})`;
  await sql`checkpoint`;
  return { workspaceId, seeded: true, seconds: Math.round((performance.now() - t0) / 1000) };
}

// Day by day, as a daily sync appends them, in statements of ~30 days (one statement through the
// FK checks and the totals trigger, as a sync's upsert goes).
async function insertMetrics(sql: postgres.Sql, workspaceId: string, shape: Shape) {
  for (let from = 1; from <= shape.days; from += 30) {
    const to = Math.min(shape.days, from + 29);
    await sql`
      insert into public.video_metrics (workspace_id, video_id, day, views, estimated_minutes_watched,
        average_view_duration, average_view_percentage, likes, comments, shares, subscribers_gained, subscribers_lost)
      select v.workspace_id, v.id, current_date - d, x.views, x.views * 3, 180, 20 + x.r * 60,
        (x.views * 0.04 * x.r)::bigint, (x.views * 0.005 * x.r)::bigint, (x.views * 0.002)::bigint,
        (x.views * 0.01 * x.r)::bigint, (x.views * 0.002)::bigint
      from generate_series(${shape.days - to + 1}::int, ${shape.days - from + 1}::int) d
      cross join (select id, workspace_id, 50 + abs(hashtext(id::text)) % 5000 as base
                  from public.videos where workspace_id = ${workspaceId}) v
      cross join lateral (select random() as r, (v.base * (0.5 + random()))::bigint as views) x
      order by d desc`;
    console.log(`  metrics: days ${from}-${to} of ${shape.days}`);
  }
}

/** `n` copies of one generated content of the workspace, so its list is full (newest first). */
export async function copiesOfContent(sql: postgres.Sql, workspaceId: string, n: number) {
  const [{ have }] = await sql<{ have: number }[]>`
    select count(*)::int as have from public.generated_content where workspace_id = ${workspaceId}`;
  if (have >= n) return;
  await sql`
    insert into public.generated_content (workspace_id, kind, brief, source_videos, prompt_version, model,
      input_tokens, output_tokens, output, created_by, created_at)
    select workspace_id, kind, brief, source_videos, prompt_version, model, input_tokens, output_tokens, output,
      created_by, created_at - k * interval '1 minute'
    from public.generated_content, generate_series(1, ${n - have}) k
    where id = (select id from public.generated_content where workspace_id = ${workspaceId} order by created_at limit 1)`;
}

/** Calls recorded over 30 days (as tracking writes them) and rolled up, for admin-metrics. */
export async function recordedCalls(sql: postgres.Sql, rows: number) {
  const [{ existing }] = await sql<{ existing: number }[]>`select count(*)::int as existing from ops.api_calls`;
  if (existing >= rows) return;
  await sql`
    insert into ops.api_calls (at, function_name, endpoint, method, status, duration_ms, user_id, workspace_id, request_id)
    select now() - interval '30 days' * (1 - i::float8 / ${rows}::float8),
      (array['workspaces','insights','generate-content','render-video','youtube-sync','health'])[1 + (i::bigint * 7919) % 6],
      '/', 'GET', case when i % 50 = 0 then 500 when i % 20 = 0 then 404 else 200 end,
      floor(exp(1.4 + random() * 5.2))::int, md5((i % 5000)::text)::uuid, md5('w' || (i % 2000)::text)::uuid, 'rl' || i
    from generate_series(1, ${rows - existing}::int) i`;
  await sql`select ops.rollup_api_calls(now() - interval '31 days')`;
  await sql`analyze ops.api_calls`;
}
