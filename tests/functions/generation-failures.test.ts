// What generate-content does when Gemini misbehaves (the fake's behaviours and fault rules):
// invalid output is retried once, then 502; a safety stop or a blocked prompt is a 422; 429/5xx
// are retried with backoff; nothing is saved for a failed generation, but every call is recorded
// with its tokens.
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import { personalWorkspace, signUp, withDb } from './helpers/users.ts';
import { addFault, faultStats, geminiBehaviour, generate, postForEvents, resetFakes } from './helpers/content.ts';
import { generate as runGeneration } from '../../supabase/functions/generate-content/generate.ts';
import { buildPrompt } from '../../supabase/functions/generate-content/prompt.ts';
import type { Insights } from '../../supabase/functions/_shared/domain/insights-document.ts';

async function savedAndCalls(ws: string) {
  return await withDb(async (sql) => ({
    content: await sql`select id from public.generated_content where workspace_id = ${ws}`,
    calls: await sql`select attempt, outcome, content_id, input_tokens, output_tokens from public.generation_calls
      where workspace_id = ${ws} order by created_at, attempt`,
    usage: (await sql`select generations, gemini_calls from public.generation_usage where workspace_id = ${ws}`)[0],
  }));
}

Deno.test('generation: invalid output twice -> one retry, then 502 with a clear message; nothing saved, both calls recorded', async () => {
  await resetFakes();
  const user = await signUp('gen-invalid');
  const ws = await personalWorkspace(user);
  await geminiBehaviour('malformed', 2);
  const res = await generate(user, { workspace_id: ws, kind: 'idea', topic: 'urban beekeeping' });
  assertEquals(res.status, 502, JSON.stringify(res.body));
  assertEquals(res.body.error.code, 'invalid_model_output');
  assertMatch(res.body.error.message, /not usable twice/);
  assertMatch(res.body.error.message, /not valid JSON/);
  const db = await savedAndCalls(ws);
  assertEquals(db.content.length, 0);
  assertEquals(
    db.calls.map((c) => [c.attempt, c.outcome, c.content_id]),
    [
      [1, 'invalid_output', null],
      [2, 'invalid_output', null],
    ],
  );
  assertOk(
    db.calls.every((c) => c.input_tokens > 0),
    'input tokens recorded for failed calls too',
  );
  assertEquals(db.usage, { generations: 0, gemini_calls: 2 });
});

Deno.test('generation: one answer that breaks the schema is retried and the second one saved', async () => {
  await resetFakes();
  const user = await signUp('gen-mismatch');
  const ws = await personalWorkspace(user);
  await geminiBehaviour('schema_mismatch', 1);
  const res = await generate(user, { workspace_id: ws, kind: 'description', topic: 'urban beekeeping' });
  assertEquals(res.status, 201, JSON.stringify(res.body));
  const db = await savedAndCalls(ws);
  assertEquals(
    db.calls.map((c) => [c.attempt, c.outcome]),
    [
      [1, 'invalid_output'],
      [2, 'ok'],
    ],
  );
  assertEquals(db.calls[1].content_id, res.body.content.id);
  // The content carries the tokens of both calls.
  assertEquals(res.body.content.input_tokens, db.calls[0].input_tokens + db.calls[1].input_tokens);
  assertEquals(db.usage, { generations: 1, gemini_calls: 2 });
});

Deno.test('generation: answers cut off at the token limit twice -> 502', async () => {
  await resetFakes();
  const user = await signUp('gen-maxtokens');
  const ws = await personalWorkspace(user);
  await geminiBehaviour('max_tokens', 2);
  const res = await generate(user, { workspace_id: ws, kind: 'script', topic: 'urban beekeeping' });
  assertEquals(res.status, 502, JSON.stringify(res.body));
  assertMatch(res.body.error.message, /token limit/);
  const db = await savedAndCalls(ws);
  assertEquals(
    db.calls.map((c) => c.outcome),
    ['max_tokens', 'max_tokens'],
  );
});

Deno.test('generation: a safety stop is a 422 that says so, not retried (JSON and event stream)', async () => {
  await resetFakes();
  const user = await signUp('gen-safety');
  const ws = await personalWorkspace(user);
  await geminiBehaviour('safety', 1);
  const res = await generate(user, { workspace_id: ws, kind: 'script', topic: 'urban beekeeping' });
  assertEquals(res.status, 422, JSON.stringify(res.body));
  assertEquals(res.body.error.code, 'content_blocked');
  assertMatch(res.body.error.message, /safety/);

  await geminiBehaviour('safety', 1);
  const streamed = await postForEvents(user.token, 'generate-content', { workspace_id: ws, kind: 'script', topic: 'urban beekeeping' });
  assertEquals(streamed.status, 200);
  const last = streamed.events.at(-1)!;
  assertEquals(last.event, 'error');
  assertEquals(last.data.status, 422);
  assertEquals(last.data.error.code, 'content_blocked');
  assertOk(!streamed.events.some((e) => e.event === 'done'));

  await geminiBehaviour('prompt_blocked', 1);
  const blocked = await generate(user, { workspace_id: ws, kind: 'title', topic: 'urban beekeeping' });
  assertEquals(blocked.status, 422, JSON.stringify(blocked.body));
  assertMatch(blocked.body.error.message, /refused the prompt/);

  const db = await savedAndCalls(ws);
  assertEquals(db.content.length, 0);
  assertEquals(
    db.calls.map((c) => c.outcome),
    ['safety', 'safety', 'blocked'],
  );
});

Deno.test('generation: 429 and 500 from Gemini are retried with backoff and the request succeeds', async () => {
  await resetFakes();
  const user = await signUp('gen-transient');
  const ws = await personalWorkspace(user);
  const tooMany = await addFault({ match: { pathPrefix: '/gemini/' }, status: 429, times: 2 });
  const res = await generate(user, { workspace_id: ws, kind: 'tags', topic: 'urban beekeeping' });
  assertEquals(res.status, 201, JSON.stringify(res.body));
  assertEquals((await faultStats(tooMany)).hits, 2);

  const broken = await addFault({ match: { pathPrefix: '/gemini/' }, status: 500, times: 1 });
  const streamed = await postForEvents(user.token, 'generate-content', { workspace_id: ws, kind: 'title', topic: 'urban beekeeping' });
  assertEquals((await faultStats(broken)).hits, 1);
  const retry = streamed.events.find((e) => e.event === 'retry');
  assertOk(retry, 'the stream announces the retry');
  assertOk(retry.data.delay_ms > 0, 'after a backoff');
  assertEquals(streamed.events.at(-1)!.event, 'done');

  const db = await savedAndCalls(ws);
  assertEquals(
    db.calls.map((c) => c.outcome),
    ['rate_limited', 'rate_limited', 'ok', 'unavailable', 'ok'],
  );
  assertEquals(db.usage, { generations: 2, gemini_calls: 5 });
});

const NO_INSIGHTS: Insights = {
  workspace_id: crypto.randomUUID(),
  channel_id: null,
  generated_at: new Date().toISOString(),
  time_zone: 'UTC',
  as_of: null,
  periods: null,
  channels: [],
  totals: {
    views: { current: 0, previous: 0, change_pct: null },
    watch_minutes: { current: 0, previous: 0, change_pct: null },
    subscribers_net: { current: 0, previous: 0, change_pct: null },
    likes: { current: 0, previous: 0, change_pct: null },
    comments: { current: 0, previous: 0, change_pct: null },
  },
  top_videos: [],
  score_over_time: [],
  patterns: {},
};

Deno.test('generation: when Gemini stays unavailable the retries stop (count or time budget) with 503 and Retry-After', async () => {
  await resetFakes();
  await addFault({ match: { pathPrefix: '/gemini/' }, status: 503 });
  const brief = {
    kind: 'title' as const,
    topic: 'urban beekeeping',
    tone: 'calm',
    language: 'English',
    target_format: 'short' as const,
    count: 3,
  };
  const prompt = buildPrompt(brief, NO_INSIGHTS);
  const waits: number[] = [];
  const byCount = await runGeneration({ brief, prompt, stream: false, sleep: async (ms) => void waits.push(ms) });
  assertOk(!byCount.ok);
  assertEquals(byCount.error.status, 503);
  assertEquals(byCount.error.code, 'model_unavailable');
  assertEquals(byCount.error.headers['Retry-After'], '60');
  assertEquals(byCount.calls.length, 6, 'the first call and five retries');
  assertOk(byCount.calls.every((c) => c.outcome === 'unavailable'));
  // exponential backoff with jitter: each wait within [base·2^(n-1)/2, base·2^(n-1)], capped at 8 s
  waits.forEach((ms, i) => {
    const ceiling = Math.min(8_000, 500 * 2 ** i);
    assertOk(ms >= ceiling / 2 && ms <= ceiling, `wait ${i + 1} = ${ms} ms`);
  });

  const byTime = await runGeneration({ brief, prompt, stream: false, budgetMs: 200, sleep: async () => {} });
  assertOk(!byTime.ok);
  assertEquals(byTime.error.status, 503);
  assertEquals(byTime.calls.length, 1, 'no retry once the next wait would overrun the budget');
  await resetFakes();
});
