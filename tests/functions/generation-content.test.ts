// generate-content against a running stack and the Gemini fake: the prompt is built from the
// caller's workspace's top videos and nobody else's, the answer is saved with its tokens, SSE
// progress arrives while the model streams, and who may generate (viewers 403, strangers 404).
import { assertEquals, assertOk } from './assert.ts';
import { addMember, createWorkspace, failedPaths, personalWorkspace, signUp, withDb } from './helpers/users.ts';
import { generate, geminiPrompts, geminiSettings, postForEvents, resetFakes, seedChannel } from './helpers/content.ts';

Deno.test(
  "generate-content: the prompt carries the top videos of this workspace, with their numbers, and no other workspace's",
  async () => {
    await resetFakes();
    const alice = await signUp('gen-prompt-a');
    const bob = await signUp('gen-prompt-b');
    const wsA = await personalWorkspace(alice);
    const wsAlicesTeam = await createWorkspace(alice, 'Other team of Alice');
    const wsB = await personalWorkspace(bob);
    const tag = crypto.randomUUID().slice(0, 8);
    const a = await seedChannel(wsA, `Alpha${tag}`);
    await seedChannel(wsAlicesTeam, `Charlie${tag}`);
    await seedChannel(wsB, `Bravo${tag}`);

    const since = Date.now();
    const topic = `fermentation-${tag}`;
    const res = await generate(alice, { workspace_id: wsA, kind: 'title', topic, count: 4 });
    assertEquals(res.status, 201, JSON.stringify(res.body));

    const prompts = (await geminiPrompts(since)).filter((p) => p.includes(topic));
    assertEquals(prompts.length, 1, 'one Gemini call for this generation');
    const prompt = prompts[0];
    for (const v of a.scored) {
      assertOk(prompt.includes(`"${v.title}"`), `prompt names top video "${v.title}"`);
    }
    const best = a.scored[0];
    const bestLine = prompt.split('\n').find((l) => l.includes(`"${best.title}"`))!;
    assertOk(bestLine.includes(`score ${best.score.toFixed(1)}/100`), `best video's score in the prompt: ${bestLine}`);
    assertOk(bestLine.includes(`${best.views.toLocaleString('en-US')} views`), `best video's views in the prompt: ${bestLine}`);
    // ordered best first
    assertOk(prompt.indexOf(`"${a.scored[0].title}"`) < prompt.indexOf(`"${a.scored.at(-1)!.title}"`), 'best video listed first');
    assertOk(prompt.includes('Patterns that performed'), 'patterns section present');
    assertOk(!prompt.includes(`Bravo${tag}`), "no video of another user's workspace");
    assertOk(!prompt.includes(`Charlie${tag}`), "no video of the same user's other workspace");

    const content = res.body.content;
    assertEquals(content.kind, 'title');
    assertEquals(content.status, 'draft');
    assertEquals(content.current_version, 1);
    assertEquals(content.output.items.length, 4);
    assertEquals(
      content.source_videos.map((v: { title: string }) => v.title),
      a.scored.map((v) => v.title),
    );
    assertOk(content.input_tokens > 0 && content.output_tokens > 0, 'tokens recorded on the content');
    assertEquals(content.model, 'gemini-2.5-flash');
    assertOk(typeof content.prompt_version === 'string' && content.prompt_version.length > 0);
  },
);

Deno.test('generate-content: tokens are recorded per call and in the monthly usage', async () => {
  await resetFakes();
  const user = await signUp('gen-usage');
  const ws = await personalWorkspace(user);
  const res = await generate(user, { workspace_id: ws, kind: 'idea', topic: 'budget travel in Portugal', count: 3 });
  assertEquals(res.status, 201, JSON.stringify(res.body));
  const { calls, usage } = await withDb(async (sql) => ({
    calls: await sql`select * from public.generation_calls where workspace_id = ${ws}`,
    usage: await sql`select * from public.generation_usage where workspace_id = ${ws} and user_id = ${user.id}`,
  }));
  assertEquals(calls.length, 1);
  assertEquals(calls[0].outcome, 'ok');
  assertEquals(calls[0].content_id, res.body.content.id);
  assertEquals(calls[0].input_tokens, res.body.content.input_tokens);
  assertEquals(calls[0].output_tokens, res.body.content.output_tokens);
  assertEquals(usage.length, 1);
  assertEquals(usage[0].generations, 1);
  assertEquals(usage[0].gemini_calls, 1);
  assertEquals(Number(usage[0].input_tokens), res.body.content.input_tokens);
  assertEquals(Number(usage[0].output_tokens), res.body.content.output_tokens);
});

Deno.test('generate-content: with Accept text/event-stream, progress events arrive while the model streams, then done', async () => {
  await resetFakes();
  // The fake pauses between chunks, so streaming shows in the arrival times.
  await geminiSettings({ streamChunkDelayMs: 120 });
  const user = await signUp('gen-sse');
  const ws = await personalWorkspace(user);
  const out = await postForEvents(user.token, 'generate-content', {
    workspace_id: ws,
    kind: 'script',
    topic: 'knife sharpening',
    target_format: 'long_form',
  });
  assertEquals(out.status, 200, out.raw);
  assertOk((out.headers.get('content-type') ?? '').startsWith('text/event-stream'));
  const names = out.events.map((e) => e.event);
  assertEquals(names[0], 'started');
  assertEquals(names.at(-1), 'done');
  const progress = out.events.filter((e) => e.event === 'progress');
  assertOk(progress.length >= 3, `several progress events, got ${progress.length}`);
  for (let i = 1; i < progress.length; i++) {
    assertOk(progress[i].data.chunks === progress[i - 1].data.chunks + 1, 'chunk count grows by one');
    assertOk(progress[i].data.characters > progress[i - 1].data.characters, 'characters grow');
  }
  const done = out.events.at(-1)!;
  assertOk(done.at - progress[0].at >= 200, `first progress ${progress[0].at} ms, done ${done.at} ms: progress came before the end`);
  const content = done.data.content;
  assertEquals(content.kind, 'script');
  assertEquals(content.brief.target_format, 'long_form');
  assertOk(content.output.items[0].script.length > 100);
  // Saved once complete, and the same row the API lists.
  const listed = await user.call(`content/${content.id}`);
  assertEquals(listed.status, 200);
  assertEquals(listed.body.content.output, content.output);
  const calls = await withDb((sql) => sql`select streamed, outcome from public.generation_calls where content_id = ${content.id}`);
  assertEquals(
    calls.map((c) => [c.streamed, c.outcome]),
    [[true, 'ok']],
  );
});

Deno.test('generate-content: viewers cannot generate (403), strangers get 404, bad bodies 400', async () => {
  await resetFakes();
  const owner = await signUp('gen-roles-owner');
  const viewer = await signUp('gen-roles-viewer');
  const editor = await signUp('gen-roles-editor');
  const stranger = await signUp('gen-roles-stranger');
  const team = await createWorkspace(owner, 'Gen roles');
  await addMember(owner, team, viewer, 'viewer');
  await addMember(owner, team, editor, 'editor');
  const body = { workspace_id: team, kind: 'title', topic: 'home espresso' };

  const asViewer = await generate(viewer, body);
  assertEquals(asViewer.status, 403, JSON.stringify(asViewer.body));
  assertEquals(asViewer.body.error.code, 'forbidden');
  const asStranger = await generate(stranger, body);
  assertEquals(asStranger.status, 404, JSON.stringify(asStranger.body));
  const asEditor = await generate(editor, body);
  assertEquals(asEditor.status, 201, JSON.stringify(asEditor.body));
  assertEquals(asEditor.body.content.created_by, editor.id);

  const noTopic = await generate(owner, { workspace_id: team, kind: 'title' });
  assertEquals(noTopic.status, 400);
  assertEquals(failedPaths(noTopic), ['topic']);
  const badKind = await generate(owner, { workspace_id: team, kind: 'poem', topic: 'x y', tone: 'calm', count: 99 });
  assertEquals(badKind.status, 400);
  assertEquals(failedPaths(badKind), ['count', 'kind']);
  const tooManyScripts = await generate(owner, { workspace_id: team, kind: 'script', topic: 'home espresso', count: 4 });
  assertEquals(tooManyScripts.status, 400);
  assertEquals(failedPaths(tooManyScripts), ['count']);
  const unknownChannel = await generate(owner, { ...body, channel_id: crypto.randomUUID() });
  assertEquals(unknownChannel.status, 404);

  // A viewer's stream request is refused before any stream starts.
  const streamed = await postForEvents(viewer.token, 'generate-content', body);
  assertEquals(streamed.status, 403);
  assertEquals(JSON.parse(streamed.raw).error.code, 'forbidden');
  // Nothing was saved for the refused requests.
  const rows = await withDb((sql) => sql`select created_by from public.generated_content where workspace_id = ${team}`);
  assertEquals(
    rows.map((r) => r.created_by),
    [editor.id],
  );
});
