// Title variants against a running stack and the Gemini fake: generate-content asks for three
// titles per suggestion in the same structured answer (the response schema Gemini receives) and
// stores them with the item, its own title first; a pick is saved as a new version and must agree
// with the title (400 with the error envelope otherwise); a picked variant that is published is in
// the upload's lineage and in the loop insights' pick rates.
import { assertEquals, assertOk } from './assert.ts';
import { fakes, geminiPrompts, generate, resetFakes } from './helpers/content.ts';
import { connectFakeChannel, createSchedule, driveUntil, makeDue, readyRenderOf, withUploadQuota } from './helpers/schedules.ts';
import { failedPaths, personalWorkspace, signUp, withDb, type TestUser } from './helpers/users.ts';

type Item = { title: string; title_variants?: string[]; title_choice?: number | 'edited' };

async function step(user: TestUser, contentId: string, action: string, body?: unknown) {
  const r = await user.call(`content/${contentId}/${action}`, { method: 'POST', body });
  assertEquals(r.status, 200, `${action}: ${JSON.stringify(r.body)}`);
  return r.body.content;
}

Deno.test('title variants: one Gemini call asks for three titles per suggestion; each item stores them, its own title first', async () => {
  await resetFakes();
  const user = await signUp('variants-gen');
  const ws = await personalWorkspace(user);
  const since = Date.now();
  const res = await generate(user, { workspace_id: ws, kind: 'title', topic: 'sourdough for beginners', count: 2 });
  assertEquals(res.status, 201, JSON.stringify(res.body));

  const { requests } = await fakes(`/_control/requests?pathPrefix=/gemini&since=${since}`);
  const posts = requests.filter((r: { method: string }) => r.method === 'POST');
  assertEquals(posts.length, 1, 'the variants come with the suggestions, in one call');
  const item = JSON.parse(posts[0].body).generationConfig.responseSchema.properties.items.items;
  assertEquals(String(item.properties.title_variants.type).toUpperCase(), 'ARRAY');
  assertEquals([item.properties.title_variants.minItems, item.properties.title_variants.maxItems], [3, 3]);
  assertOk(item.required.includes('title_variants'), 'the model must give them');

  const items: Item[] = res.body.content.output.items;
  assertEquals(items.length, 2);
  for (const it of items) {
    assertOk(Array.isArray(it.title_variants) && it.title_variants.length >= 2 && it.title_variants.length <= 3, JSON.stringify(it));
    assertEquals(it.title_variants![0], it.title, "the suggestion's title is the first variant");
    assertEquals(new Set(it.title_variants!.map((t) => t.toLowerCase())).size, it.title_variants!.length, 'no repeats');
    assertEquals(it.title_choice, undefined, 'nothing picked yet');
  }
  const prompt = await generate(user, { workspace_id: ws, kind: 'description', topic: 'sourdough for beginners', count: 1 });
  assertEquals(prompt.status, 201, JSON.stringify(prompt.body));
  assertEquals('title_variants' in prompt.body.content.output.items[0], false, 'kinds without a title have no variants');
});

Deno.test('title variants: a pick is a new version; a pick that disagrees with the title is a 400 with the error envelope', async () => {
  await resetFakes();
  const user = await signUp('variants-pick');
  const ws = await personalWorkspace(user);
  const made = await generate(user, { workspace_id: ws, kind: 'title', topic: 'cold brew at home', count: 1 });
  assertEquals(made.status, 201, JSON.stringify(made.body));
  const id: string = made.body.content.id;
  const item: Item = made.body.content.output.items[0];
  const variants = item.title_variants!;

  const picked = { items: [{ ...item, title: variants[1], title_choice: 1 }] };
  const ok = await user.call(`content/${id}/versions`, { method: 'POST', body: { output: picked, note: 'Picked title option 2' } });
  assertEquals(ok.status, 201, JSON.stringify(ok.body));
  assertEquals(ok.body.content.output.items[0].title_choice, 1);
  assertEquals(ok.body.content.current_version, 2);

  const wrong = await user.call(`content/${id}/versions`, {
    method: 'POST',
    body: { output: { items: [{ ...item, title: variants[1], title_choice: 0 }] } },
  });
  assertEquals(wrong.status, 400, JSON.stringify(wrong.body));
  assertEquals(wrong.body.error.code, 'validation_failed');
  assertOk(typeof wrong.body.error.message === 'string' && wrong.body.error.message.length > 0);
  assertEquals(failedPaths(wrong), ['items.0.title_choice']);

  const past = await user.call(`content/${id}/versions`, { method: 'POST', body: { output: { items: [{ ...item, title_choice: 9 }] } } });
  assertEquals(past.status, 400, JSON.stringify(past.body));
  assertEquals(failedPaths(past), ['items.0.title_choice']);
  const notOwn = await user.call(`content/${id}/versions`, {
    method: 'POST',
    body: { output: { items: [{ ...item, title_choice: 'edited' }] } },
  });
  assertEquals(notOwn.status, 400, JSON.stringify(notOwn.body));
  const junk = await user.call(`content/${id}/versions`, {
    method: 'POST',
    body: { output: { items: [{ ...item, title_choice: 'second' }] } },
  });
  assertEquals(junk.status, 400, JSON.stringify(junk.body));

  const own = await user.call(`content/${id}/versions`, {
    method: 'POST',
    body: { output: { items: [{ ...item, title: 'My own title', title_choice: 'edited' }] } },
  });
  assertEquals(own.status, 201, JSON.stringify(own.body));
  assertEquals(own.body.content.current_version, 3);
});

Deno.test("title variants: the picked variant that is published is in the lineage and the loop insights' pick rates", async () => {
  await resetFakes();
  const user = await signUp('variants-loop');
  const workspaceId = await personalWorkspace(user);
  const { channelId, youtubeChannelId } = await connectFakeChannel(workspaceId, user.id, 'variants-loop');
  const made = await generate(user, { workspace_id: workspaceId, channel_id: channelId, kind: 'script', topic: 'iced tea in summer' });
  assertEquals(made.status, 201, JSON.stringify(made.body));
  const contentId: string = made.body.content.id;
  const item: Item = made.body.content.output.items[0];
  const third = item.title_variants![2];
  const v2 = await user.call(`content/${contentId}/versions`, {
    method: 'POST',
    body: { output: { items: [{ ...item, title: third, title_choice: 2 }] } },
  });
  assertEquals(v2.status, 201, JSON.stringify(v2.body));
  await step(user, contentId, 'submit');
  await step(user, contentId, 'approve');

  const jobId = await readyRenderOf(workspaceId, user.id, contentId, 2);
  const row = await withUploadQuota(async () => {
    const schedule = await createSchedule(
      { user, workspaceId, channelId, youtubeChannelId, render: { videoJobId: jobId, pid: '', videoUrl: '', thumbnailUrl: '', bytes: 0 } },
      { strategy: 'upload_at_time', title: third },
    );
    await makeDue(schedule.id);
    return await driveUntil(schedule.id, ['published', 'failed'], 60_000);
  });
  assertEquals(row.status, 'published', JSON.stringify(row));

  const lineage = await user.call(`insights/lineage?workspace_id=${workspaceId}&schedule_id=${row.id}`);
  assertEquals(lineage.status, 200, JSON.stringify(lineage.body));
  const l = lineage.body.lineage;
  assertEquals([l.chosen_variant, l.title_variant, l.title_choice], [0, 2, 'variant']);
  assertEquals(l.approved_output.items[0].title_choice, 2, 'the pick as approved');

  const loop = await user.call(`insights/loop?workspace_id=${workspaceId}&age_days=7`);
  assertEquals(loop.status, 200, JSON.stringify(loop.body));
  const titles = loop.body.loop.variants.titles;
  assertEquals(titles.uploads, 1);
  assertEquals(
    titles.picks.map((p: { choice: string; position: number | null; uploads: number; pick_rate: number }) => [
      p.choice,
      p.position,
      p.uploads,
      p.pick_rate,
    ]),
    [['variant', 2, 1, 1]],
  );
  assertEquals(titles.edited.videos, 0);
});

/**
 * A suggestion published with the given title (an offered one or the person's own): generated
 * through the function, the pick saved as a version, approved, rendered, and published by the
 * schedule's status change (the lineage trigger records the title choice), then synced and scored.
 */
async function publishWithTitle(
  user: TestUser,
  workspaceId: string,
  channelId: string,
  topic: string,
  pick: (variants: string[]) => { title: string; title_choice: number | 'edited' },
  views: number,
) {
  const made = await generate(user, { workspace_id: workspaceId, channel_id: channelId, kind: 'title', topic, count: 1 });
  assertEquals(made.status, 201, JSON.stringify(made.body));
  const contentId: string = made.body.content.id;
  const item: Item = made.body.content.output.items[0];
  const chosen = pick(item.title_variants!);
  const v2 = await user.call(`content/${contentId}/versions`, { method: 'POST', body: { output: { items: [{ ...item, ...chosen }] } } });
  assertEquals(v2.status, 201, JSON.stringify(v2.body));
  await step(user, contentId, 'submit');
  await step(user, contentId, 'approve');
  const jobId = await readyRenderOf(workspaceId, user.id, contentId, 2);
  const youtubeId = 'tc' + crypto.randomUUID().slice(0, 9);
  await withDb(async (sql) => {
    const [s] = await sql`
      insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, status, upload_started_at,
        youtube_video_id, idempotency_key, request_fingerprint, created_by)
      values (${workspaceId}, ${channelId}, ${jobId}, ${chosen.title}, '2026-05-04 16:00:00Z', 'processing', now(), ${youtubeId},
        ${'tc-' + youtubeId}, repeat('a', 64), ${user.id})
      returning id`;
    await sql`update public.upload_schedules set status = 'published', published_at = '2026-05-04 16:00:00Z', finished_at = now() where id = ${s.id}`;
    const [v] = await sql`
      insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at, duration_seconds, is_short)
      values (${workspaceId}, ${channelId}, ${youtubeId}, ${chosen.title}, '2026-05-04 16:00:00Z', 40, true) returning id`;
    await sql`
      insert into public.video_metrics (workspace_id, video_id, day, views, average_view_percentage)
      select ${workspaceId}, ${v.id}, date '2026-05-04' + d, ${views}, 55 from generate_series(0, 8) d`;
  });
  return chosen.title;
}

Deno.test(
  'title variants: the next prompt says which offered title people published, or that they wrote their own, next to its outcome',
  async () => {
    await resetFakes();
    const user = await signUp('variants-prompt');
    const workspaceId = await personalWorkspace(user);
    const [channel] = await withDb(
      (sql) => sql`
    insert into public.channels (workspace_id, youtube_channel_id, title)
    values (${workspaceId}, ${'UCtc' + crypto.randomUUID().slice(0, 12)}, 'Tea Lab') returning id`,
    );
    const channelId: string = channel.id;
    const picked = await publishWithTitle(user, workspaceId, channelId, 'matcha at home', (v) => ({ title: v[1], title_choice: 1 }), 900);
    await publishWithTitle(user, workspaceId, channelId, 'oolong basics', () => ({ title: 'Oolong, my way', title_choice: 'edited' }), 100);
    await withDb((sql) => sql`select private.score_channel_videos(${channelId})`);

    const since = Date.now();
    const next = await generate(user, { workspace_id: workspaceId, channel_id: channelId, kind: 'title', topic: 'green tea follow-up' });
    assertEquals(next.status, 201, JSON.stringify(next.body));
    assertEquals(next.body.content.prompt_version, 'gen-2026-12-v4');
    const prompt = (await geminiPrompts(since)).find((p) => p.includes('green tea follow-up'))!;
    const line = (title: string) => prompt.split('\n').find((l) => l.startsWith(`- "${title}"`)) ?? '';
    assertOk(/score \d+\/100 .*; they picked offered title 2$/.test(line(picked)), prompt);
    assertOk(/score \d+\/100 .*; they wrote their own title instead of the offered ones$/.test(line('Oolong, my way')), prompt);
    assertOk(prompt.includes('write title variants like those people chose for the videos that did well'), prompt);
    const [inputs] = await withDb(
      (sql) => sql`select own_outcomes from public.generation_inputs where content_id = ${next.body.content.id}`,
    );
    assertEquals(
      inputs.own_outcomes
        .map((o: { title: string; title_choice: string; title_variant: number | null }) => [o.title, o.title_choice, o.title_variant])
        .sort(),
      [
        ['Oolong, my way', 'edited', null],
        [picked, 'variant', 1],
      ].sort(),
      'the title choices the prompt quoted are recorded with the content',
    );
  },
);
