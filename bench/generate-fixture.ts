// The generation benchmarks' user and channel: a confirmed user whose own workspace has a
// realistic channel (120 videos over a year, 90 days of daily metrics, scored), and the request
// they send to generate-content.
import type postgres from 'postgres';
import { createConfirmedUser } from '../tests/unit/helpers/auth-users.ts';

export interface GenerationFixture {
  userId: string;
  token: string;
  workspaceId: string;
  channelId: string;
}

export async function createGenerationFixture(sql: postgres.Sql, env: Record<string, string>): Promise<GenerationFixture> {
  const created = await createConfirmedUser(
    { url: env.SUPABASE_URL, anonKey: env.SUPABASE_ANON_KEY, serviceRoleKey: env.SUPABASE_SERVICE_ROLE_KEY },
    `bench-gen-${Date.now()}@example.com`,
    'bench-password',
  );
  const [{ workspace_id }] = await sql<{ workspace_id: string }[]>`
    select workspace_id from public.workspace_members where user_id = ${created.id}`;
  const tag = Math.random().toString(36).slice(2, 12);
  const [channel] = await sql<{ id: string }[]>`
    insert into public.channels (workspace_id, youtube_channel_id, title)
    values (${workspace_id}, ${'UCbench' + tag}, 'Bench Kitchen') returning id`;
  await sql`
    insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at, duration_seconds, is_short, view_count)
    select ${workspace_id}, ${channel.id}, ${'vb' + tag} || k, 'Bench recipe number ' || k,
      now() - interval '365 days' + k * interval '3 days', 30 + 7 * k, k % 3 = 0, 1000 * k
    from generate_series(1, 120) k`;
  await sql`
    insert into public.video_metrics (workspace_id, video_id, day, views, estimated_minutes_watched,
      average_view_percentage, likes, comments, shares, subscribers_gained, subscribers_lost)
    select v.workspace_id, v.id, current_date - d, 10 + (random() * 100)::int, 20, 30 + (random() * 30)::int, 1, 1, 0, 1, 0
    from public.videos v cross join generate_series(3, 92) d where v.channel_id = ${channel.id}`;
  await sql`select private.score_channel_videos(${channel.id})`;
  return { userId: created.id, token: created.accessToken, workspaceId: workspace_id, channelId: channel.id };
}

/** The benchmarks' generation request (five titles), with extra headers such as Cache-Control. */
export function generateRequest(env: Record<string, string>, fx: GenerationFixture, extra: Record<string, string>) {
  return () =>
    fetch(`${env.SUPABASE_URL}/functions/v1/generate-content`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${fx.token}`,
        apikey: env.SUPABASE_ANON_KEY,
        'content-type': 'application/json',
        ...extra,
      },
      body: JSON.stringify({ workspace_id: fx.workspaceId, kind: 'title', topic: 'one-pan weeknight dinners', count: 5 }),
    });
}
