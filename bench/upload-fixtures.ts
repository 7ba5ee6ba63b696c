// What the upload benchmarks set up directly in the database: a user with a workspace and
// connected channels of the fake YouTube, ready renders of any size (the fake RevID's files), and
// upload_at_time schedules due at a given time.
import type postgres from 'postgres';
import type { fakesControl } from './lib.ts';

export interface UploadSetup {
  userId: string;
  ws: string;
  channels: { id: string; youtube: string }[];
}

type Control = ReturnType<typeof fakesControl>;

export function uploadFixtures(sql: postgres.Sql, control: Control, fakesUrl: string) {
  return {
    async setup(channels: number): Promise<UploadSetup> {
      const [user] = await sql`
        insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
        values (gen_random_uuid(), 'authenticated', 'authenticated', ${`bench-limits-${Date.now()}@example.com`}, '{}', '{}', now(), now())
        returning id`;
      const [{ workspace_id: ws }] = await sql`select workspace_id from public.workspace_members where user_id = ${user.id}`;
      const made: UploadSetup['channels'] = [];
      for (let i = 0; i < channels; i++) {
        const fake = await control('POST', 'youtube/channels', { videos: 1, seed: `bench-limits-${Date.now()}-${i}` });
        const [{ id }] = await sql`
          insert into public.channels (workspace_id, youtube_channel_id, title, status, connected_by, connected_at)
          values (${ws}, ${fake.channelId}, ${fake.title}, 'active', ${user.id}, now()) returning id`;
        await sql`select private.save_channel_credentials(${id}, ${fake.refreshToken}, ${fake.accessToken}, now() + interval '50 minutes',
          array['https://www.googleapis.com/auth/youtube.upload'])`;
        made.push({ id, youtube: fake.channelId });
      }
      return { userId: user.id, ws, channels: made };
    },

    async render(ws: string, bytes: number): Promise<{ videoJobId: string; pid: string }> {
      const job = await control('POST', 'revid/jobs', { videoBytes: bytes, renderMs: 0 });
      const [{ id }] = await sql`
        with content as (
          insert into public.generated_content (workspace_id, kind, brief, prompt_version, model, output, status, approved_version)
          values (${ws}, 'script', '{}', 'bench', 'bench', '{"items": [{"title": "A script", "hook": "Watch this.", "script": "A script.", "call_to_action": "Subscribe.", "estimated_duration_seconds": 30}]}', 'approved', 1) returning id
        )
        insert into public.video_jobs (workspace_id, content_id, content_version, provider_job_id, render_params, status, progress,
          video_url, webhook_secret_hash, give_up_at, idempotency_key, request_fingerprint, finished_at)
        select ${ws}, content.id, 1, ${job.pid}, '{}', 'ready', 100, ${`${fakesUrl}/revid/media/${job.pid}.mp4`}, repeat('a', 64),
          now() + interval '1 hour', ${'bench-' + job.pid}, repeat('a', 64), now()
        from content returning id`;
      return { videoJobId: id, pid: job.pid };
    },

    async schedule(s: UploadSetup, channelId: string, videoJobId: string, title: string, at: Date): Promise<string> {
      const [{ id }] = await sql`
        insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, strategy, privacy, status,
          next_attempt_at, idempotency_key, request_fingerprint, created_by)
        values (${s.ws}, ${channelId}, ${videoJobId}, ${title}, ${at}, 'upload_at_time', 'public', 'scheduled', ${at},
          ${title + crypto.randomUUID()}, repeat('c', 64), ${s.userId})
        returning id`;
      return id;
    },
  };
}

/**
 * Lifts our daily YouTube budget and the fake's quota for an upload benchmark (it uploads far
 * more than a day's 10,000 units allow). The returned function deletes the benchmark's user, if
 * it made one, and puts both quotas back.
 */
export async function roomyQuota(sql: postgres.Sql, control: Control): Promise<(userId?: string) => Promise<void>> {
  const [{ budget }] = await sql`select units as budget from private.youtube_daily_budget`;
  const fakeQuota = await control('GET', 'youtube/quota');
  await sql`update private.youtube_daily_budget set units = 100000000`;
  await control('POST', 'youtube/quota', { dailyLimit: 100_000_000 });
  return async (userId) => {
    if (userId) await sql`delete from auth.users where id = ${userId}`;
    await sql`update private.youtube_daily_budget set units = ${budget}`;
    await control('POST', 'youtube/quota', { dailyLimit: fakeQuota.dailyLimit });
  };
}
