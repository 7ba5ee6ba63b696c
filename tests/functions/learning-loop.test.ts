// The learning loop against a running stack: a script generated, reviewed (rejected, edited,
// approved), rendered and uploaded through the real functions and worker gets its lineage when
// YouTube publishes it, an edit afterwards does not change it, the outcomes arrive with the
// metrics, the next prompt quotes them; GET /insights/loop on synthetic channels where the engine
// does better, the same, or has too few uploads; input validation and tenancy.
import { assertEquals, assertOk } from './assert.ts';
import { generate, geminiPrompts, resetFakes } from './helpers/content.ts';
import { connectFakeChannel, createSchedule, driveUntil, makeDue, readyRenderOf, withUploadQuota } from './helpers/schedules.ts';
import { failedPaths, personalWorkspace, signUp, withDb, type TestUser } from './helpers/users.ts';

async function step(user: TestUser, contentId: string, action: string, body?: unknown) {
  const r = await user.call(`content/${contentId}/${action}`, { method: 'POST', body });
  assertEquals(r.status, 200, `${action}: ${JSON.stringify(r.body)}`);
  return r.body.content;
}

Deno.test(
  'learning loop: a published engine upload has its lineage, keeps it after an edit, gets outcomes, and the next prompt quotes them',
  async () => {
    await resetFakes();
    const user = await signUp('loop-lineage');
    const workspaceId = await personalWorkspace(user);
    const { channelId, youtubeChannelId } = await connectFakeChannel(workspaceId, user.id, 'loop-lineage');

    const made = await generate(user, {
      workspace_id: workspaceId,
      channel_id: channelId,
      kind: 'script',
      topic: 'cold brew at home',
      tone: 'calm and precise',
    });
    assertEquals(made.status, 201, JSON.stringify(made.body));
    const contentId: string = made.body.content.id;
    await step(user, contentId, 'submit');
    await step(user, contentId, 'reject', { reason: 'the hook comes too late' });
    const first = made.body.content.output;
    const edited = { items: [{ ...first.items[0], title: 'Cold brew in 3 steps' }] };
    const v2 = await user.call(`content/${contentId}/versions`, { method: 'POST', body: { output: edited } });
    assertEquals(v2.status, 201, JSON.stringify(v2.body));
    await step(user, contentId, 'submit');
    const approved = await step(user, contentId, 'approve');
    assertEquals(approved.approved_version, 2);

    const jobId = await readyRenderOf(workspaceId, user.id, contentId, 2);
    const row = await withUploadQuota(async () => {
      const schedule = await createSchedule(
        {
          user,
          workspaceId,
          channelId,
          youtubeChannelId,
          render: { videoJobId: jobId, pid: '', videoUrl: '', thumbnailUrl: '', bytes: 0 },
        },
        { strategy: 'upload_at_time', title: 'Cold brew in 3 steps' },
      );
      await makeDue(schedule.id);
      return await driveUntil(schedule.id, ['published', 'failed'], 60_000);
    });
    assertEquals(row.status, 'published', JSON.stringify(row));

    const lineage = await user.call(`insights/lineage?workspace_id=${workspaceId}&schedule_id=${row.id}`);
    assertEquals(lineage.status, 200, JSON.stringify(lineage.body));
    const l = lineage.body.lineage;
    assertEquals(lineage.body.origin, 'engine');
    assertEquals(l.youtube_video_id, row.youtube_video_id);
    assertEquals(l.content_id, contentId);
    assertEquals(l.content_version, 2);
    assertEquals(l.approval_source, 'decision');
    assertEquals(l.approved_output, edited, 'the exact approved text');
    assertEquals(l.approved_by, user.id);
    assertEquals(l.tone, 'calm and precise');
    assertEquals(l.chosen_variant, 0);
    assertEquals(l.render.video_job_id, jobId);
    assertEquals(l.schedule.title, 'Cold brew in 3 steps');
    assertEquals(l.generation.model, made.body.content.model);
    assertOk(typeof l.generation.request_id === 'string' && l.generation.call_ids.length >= 1, JSON.stringify(l.generation));
    assertEquals(l.prompt_inputs.brief.topic, 'cold brew at home');
    assertOk('patterns' in l.prompt_inputs, 'the patterns the prompt quoted');

    // An edit after publishing and the content's deletion leave the lineage as it was.
    const v3 = await user.call(`content/${contentId}/versions`, {
      method: 'POST',
      body: { output: { items: [{ ...first.items[0], title: 'Rewritten' }] } },
    });
    assertEquals(v3.status, 201);
    await withDb((sql) => sql`delete from public.generated_content where id = ${contentId}`);
    const again = await user.call(`insights/lineage?workspace_id=${workspaceId}&schedule_id=${row.id}`);
    assertEquals(again.body.lineage.approved_output, edited);

    // The sync brings the video and 8 days of metrics, then scores the channel: the 1- and 7-day
    // outcomes are recorded (an organic video with fewer views ranks below it).
    await withDb(async (sql) => {
      await sql`
      insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at, duration_seconds, is_short)
      values (${workspaceId}, ${channelId}, ${row.youtube_video_id}, 'Cold brew in 3 steps', '2026-05-01 17:00:00Z', 42, true),
             (${workspaceId}, ${channelId}, ${'org' + crypto.randomUUID().slice(0, 8)}, 'Organic', '2026-05-01 17:00:00Z', 300, false)`;
      await sql`
      insert into public.video_metrics (workspace_id, video_id, day, views, average_view_percentage)
      select v.workspace_id, v.id, date '2026-05-01' + d, case when v.title = 'Organic' then 10 else 500 end, 60
      from public.videos v cross join generate_series(0, 7) d where v.channel_id = ${channelId}`;
      await sql`select private.score_channel_videos(${channelId})`;
    });
    const videoId = (await withDb((sql) => sql`select id from public.videos where youtube_video_id = ${row.youtube_video_id}`))[0].id;
    const byVideo = await user.call(`insights/lineage?workspace_id=${workspaceId}&video_id=${videoId}`);
    assertEquals(byVideo.status, 200, JSON.stringify(byVideo.body));
    assertEquals(byVideo.body.origin, 'engine');
    assertEquals(
      byVideo.body.outcomes.map((o: { age_days: number }) => o.age_days),
      [1, 7],
    );
    assertEquals(
      byVideo.body.outcomes.map((o: { velocity_percentile: string }) => Number(o.velocity_percentile)),
      [100, 100],
    );
    assertEquals(Number(byVideo.body.outcomes[1].views), 3500);

    const organic = (await withDb((sql) => sql`select id from public.videos where channel_id = ${channelId} and title = 'Organic'`))[0].id;
    const org = await user.call(`insights/lineage?workspace_id=${workspaceId}&video_id=${organic}`);
    assertEquals(org.body.origin, 'organic');
    assertEquals(org.body.lineage, null);

    // The next generation's prompt quotes the engine's own outcome.
    const since = Date.now();
    const next = await generate(user, { workspace_id: workspaceId, channel_id: channelId, kind: 'title', topic: 'iced coffee follow-up' });
    assertEquals(next.status, 201, JSON.stringify(next.body));
    const prompt = (await geminiPrompts(since)).find((p) => p.includes('iced coffee follow-up'))!;
    assertOk(prompt.includes('How your earlier suggestions did once published'), prompt);
    assertOk(prompt.includes('"Cold brew in 3 steps" (script, tone "calm and precise"): score 100/100 and views faster than 100%'), prompt);
    const [inputs] = await withDb(
      (sql) => sql`select own_outcomes from public.generation_inputs where content_id = ${next.body.content.id}`,
    );
    assertEquals(inputs.own_outcomes[0].title, 'Cold brew in 3 steps', 'the quoted outcomes are recorded with the content');
    // Written in the transaction that saved the content: both rows carry its start time (now()),
    // and no moment exists in which the content is there without its inputs.
    const [written] = await withDb(
      (sql) => sql`
      select c.created_at = i.created_at as same_transaction from public.generated_content c
      join public.generation_inputs i on i.content_id = c.id where c.id = ${next.body.content.id}`,
    );
    assertEquals(written.same_transaction, true, 'the inputs are written in the transaction that saves the content');

    // Another user sees neither the lineage nor the video.
    const stranger = await signUp('loop-stranger');
    const hidden = await stranger.call(`insights/lineage?workspace_id=${workspaceId}&video_id=${videoId}`);
    assertEquals(hidden.status, 404);
  },
);

/** Videos with 7-day outcomes of the given scores; the engine's have lineage. */
async function synthetic(workspaceId: string, label: string, engine: number[], organic: number[]): Promise<string> {
  return await withDb(async (sql) => {
    const tag = label + crypto.randomUUID().slice(0, 8);
    const [ch] = await sql<{ id: string }[]>`
      insert into public.channels (workspace_id, youtube_channel_id, title) values (${workspaceId}, ${'UC' + tag}, ${label}) returning id`;
    const rows = [
      ...engine.map((s, i) => ({ yt: `${tag}e${i}`, s, e: true })),
      ...organic.map((s, i) => ({ yt: `${tag}o${i}`, s, e: false })),
    ];
    for (const r of rows) {
      const [v] = await sql<{ id: string }[]>`
        insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at, duration_seconds)
        values (${workspaceId}, ${ch.id}, ${r.yt}, ${r.yt}, '2026-04-06 18:00:00Z', 40) returning id`;
      await sql`
        insert into public.video_outcomes (video_id, age_days, workspace_id, channel_id, youtube_video_id, published_at, window_from,
          window_to, views, velocity, retention, engagement, conversion, velocity_percentile, score, peers, channel_median_velocity)
        values (${v.id}, 7, ${workspaceId}, ${ch.id}, ${r.yt}, '2026-04-06 18:00:00Z', '2026-04-06', '2026-04-12', 10, 1, 0, 0, 0,
          ${r.s}, ${r.s}, ${rows.length}, 1)`;
      if (r.e) {
        await sql`
          insert into public.upload_lineage (schedule_id, workspace_id, channel_id, youtube_video_id, published_at, schedule, render,
            kind, approval_source, tone)
          values (${crypto.randomUUID()}, ${workspaceId}, ${ch.id}, ${r.yt}, '2026-04-06 18:00:00Z', ${sql.json({ title: r.yt })}, '{}',
            'script', 'decision', 'calm')`;
      }
    }
    return ch.id;
  });
}

const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

Deno.test('insights/loop: better, same and too few, with medians, intervals and a summary; validation and tenancy', async () => {
  const owner = await signUp('loop-insights');
  const ws = await personalWorkspace(owner);
  const organic = range(20, (i) => 5 * i); // median 47.5, 95% interval [25, 70]
  const better = await synthetic(
    ws,
    'better',
    range(10, (i) => 81 + 2 * i),
    organic,
  ); // median 90 in [83, 97]
  const same = await synthetic(
    ws,
    'same',
    range(10, (i) => 2 + 10 * i),
    organic,
  ); // median 47 in [12, 82]
  const few = await synthetic(ws, 'few', [90, 91, 92], organic);

  const b = await owner.call(`insights/loop?workspace_id=${ws}&channel_id=${better}&age_days=7`);
  assertEquals(b.status, 200, JSON.stringify(b.body));
  assertEquals(b.body.loop.comparison.verdict, 'better');
  assertEquals(b.body.loop.comparison.engine.median_score, 90);
  assertEquals(b.body.loop.comparison.engine.ci.low, 83);
  assertEquals(b.body.loop.comparison.engine.ci.high, 97);
  assertEquals(b.body.loop.comparison.organic.median_score, 47.5);
  assertEquals(b.body.loop.comparison.difference, 42.5);
  assertEquals(
    b.body.summary,
    'At 7 days, engine-assisted uploads: median percentile 90 (95% interval 83–97, 10 videos); organic videos: median percentile 47.5 ' +
      "(95% interval 25–70, 20 videos). The engine's suggestions beat the channel's organic videos by 42.5 percentile points.",
  );

  const s = await owner.call(`insights/loop?workspace_id=${ws}&channel_id=${same}`);
  assertEquals(s.body.loop.comparison.verdict, 'no_clear_difference');
  assertEquals(s.body.loop.comparison.engine.median_score, 47);

  const f = await owner.call(`insights/loop?workspace_id=${ws}&channel_id=${few}`);
  assertEquals(f.body.loop.comparison.verdict, 'not_enough_data');
  assertEquals(f.body.loop.comparison.engine.median_score, null);
  assertOk(f.body.summary.includes('engine-assisted uploads: not enough data (3 videos, at least 6 needed)'), f.body.summary);

  const bad = await owner.call(`insights/loop?workspace_id=${ws}&age_days=3&min_videos=2`);
  assertEquals(bad.status, 400);
  assertEquals(bad.body.error.code, 'validation_failed');
  assertEquals(failedPaths(bad).sort(), ['age_days', 'min_videos']);
  const both = await owner.call(`insights/lineage?workspace_id=${ws}`);
  assertEquals(both.status, 400);
  assertEquals(failedPaths(both), ['video_id']);

  const stranger = await signUp('loop-insights-stranger');
  const hidden = await stranger.call(`insights/loop?workspace_id=${ws}`);
  assertEquals(hidden.status, 404);
  assertEquals(hidden.body.error.code, 'not_found');
  const otherChannel = await owner.call(`insights/loop?workspace_id=${ws}&channel_id=${crypto.randomUUID()}`);
  assertEquals(otherChannel.status, 404);
});
