// Shared by the generation-* and render-* suites: the fakes' control API (behaviour, faults,
// request log), channel data seeded straight into the database (as the sync worker would write
// it), approved scripts made through the API, the render worker, and a reader for server-sent
// events that keeps when each event arrived.
import { callFunction, stack, withDb, type Answer, type Json, type TestUser } from './users.ts';

export function fakesUrl(): string {
  const url = Deno.env.get('LOCAL_FAKES_URL');
  if (!url) throw new Error('LOCAL_FAKES_URL is not set: run these tests against a running stack');
  return url.replace(/\/+$/, '');
}

export async function fakes(path: string, body?: unknown, method = body === undefined ? 'GET' : 'POST'): Promise<Json> {
  const res = await fetch(`${fakesUrl()}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`fakes ${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Everything back to normal: faults, request log, Gemini behaviour, RevID settings and jobs. */
export const resetFakes = () => fakes('/_control/reset', {});
export const geminiBehaviour = (mode: string, times?: number) => fakes('/_control/gemini/behaviour', times ? { mode, times } : { mode });
export const geminiSettings = (settings: Record<string, unknown>) => fakes('/_control/gemini/settings', settings);
export const revidSettings = (settings: Record<string, unknown>) => fakes('/_control/revid/settings', settings);
export const addFault = async (rule: Record<string, unknown>): Promise<string> => (await fakes('/_control/faults', rule)).id;
export async function faultStats(id: string): Promise<{ matched: number; hits: number }> {
  const { faults } = await fakes('/_control/faults');
  const f = faults.find((x: { id: string }) => x.id === id);
  if (!f) throw new Error(`no fault ${id}`);
  return { matched: f.matched, hits: f.hits };
}

/** The prompts (user turn text) of the Gemini calls the fake received since `sinceMs`. */
export async function geminiPrompts(sinceMs: number): Promise<string[]> {
  const { requests } = await fakes(`/_control/requests?pathPrefix=/gemini&since=${sinceMs}`);
  return requests
    .filter((r: { method: string }) => r.method === 'POST')
    .map((r: { body: string; bodyTruncated: boolean }) => {
      if (r.bodyTruncated) throw new Error('a Gemini request body was truncated in the request log');
      const body = JSON.parse(r.body);
      return body.contents.flatMap((c: { parts: { text?: string }[] }) => c.parts.map((p) => p.text ?? '')).join('\n');
    });
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 15_000,
  everyMs = 150,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface SeededChannel {
  channelId: string;
  /** Titles with their scores, best first, as public.performance_scores holds them. */
  scored: { title: string; score: number; views: number }[];
}

/**
 * A channel of `videos` videos titled `<prefix> 1..n` with ten days of metrics each (video k gets
 * 100·k views a day, so higher k scores higher), scored by the real scoring function.
 */
export async function seedChannel(workspaceId: string, prefix: string, videos = 6): Promise<SeededChannel> {
  const tag = crypto.randomUUID().replaceAll('-', '').slice(0, 16);
  return await withDb(async (sql) => {
    const [ch] = await sql<{ id: string }[]>`
      insert into public.channels (workspace_id, youtube_channel_id, title)
      values (${workspaceId}, ${'UC' + tag}, ${prefix + ' channel'}) returning id`;
    await sql`
      insert into public.videos (workspace_id, channel_id, youtube_video_id, title, published_at, duration_seconds, is_short, view_count)
      select ${workspaceId}, ${ch.id}, ${'v' + tag} || k, ${prefix} || ' ' || k,
        now() - interval '40 days' + k * interval '1 day', 30 + 10 * k, k % 2 = 0, 1000 * k
      from generate_series(1, ${videos}) as k`;
    await sql`
      insert into public.video_metrics (workspace_id, video_id, day, views, estimated_minutes_watched,
        average_view_percentage, likes, comments, shares, subscribers_gained, subscribers_lost)
      select v.workspace_id, v.id, (v.published_at at time zone 'UTC')::date + d,
        100 * split_part(v.title, ' ', -1)::int, 50, 40 + split_part(v.title, ' ', -1)::int, 5, 1, 1, 1, 0
      from public.videos v cross join generate_series(0, 9) as d
      where v.channel_id = ${ch.id}`;
    await sql`select private.score_channel_videos(${ch.id})`;
    const scored = await sql<{ title: string; score: string; views: string }[]>`
      select v.title, s.score, v.view_count as views from public.performance_scores s join public.videos v on v.id = s.video_id
      where s.channel_id = ${ch.id} order by s.score desc, v.title`;
    if (scored.length !== videos) throw new Error(`expected ${videos} scored videos, got ${scored.length}`);
    return { channelId: ch.id, scored: scored.map((r) => ({ title: r.title, score: Number(r.score), views: Number(r.views) })) };
  });
}

export function generate(user: TestUser, body: Record<string, unknown>): Promise<Answer> {
  return user.call('generate-content', { method: 'POST', body });
}

/** A script generated, submitted and approved through the API; its content id. */
export async function approvedScript(user: TestUser, workspaceId: string, topic = 'a sourdough starter from scratch'): Promise<string> {
  const made = await generate(user, { workspace_id: workspaceId, kind: 'script', topic });
  if (made.status !== 201) throw new Error(`generation failed: ${made.status} ${JSON.stringify(made.body)}`);
  const id: string = made.body.content.id;
  for (const step of ['submit', 'approve']) {
    const r = await user.call(`content/${id}/${step}`, { method: 'POST' });
    if (r.status !== 200) throw new Error(`${step} failed: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return id;
}

export function render(user: TestUser, contentId: string, key: string, extra: Record<string, unknown> = {}): Promise<Answer> {
  return user.call('render-video', { method: 'POST', body: { content_id: contentId, ...extra }, headers: { 'Idempotency-Key': key } });
}

/** The render worker, called as pg_cron calls it (service role). */
export async function runWorker(body: Record<string, unknown> = {}): Promise<Json> {
  const res = await callFunction(stack.serviceKey, 'render-video/worker', { method: 'POST', body });
  if (res.status !== 200) throw new Error(`worker: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function jobRow(id: string): Promise<Json> {
  return await withDb(async (sql) => (await sql`select * from public.video_jobs where id = ${id}`)[0]);
}

/** Makes open jobs due now, as if the no-news interval had passed. */
export async function makeDue(ids: string[]) {
  await withDb(
    (sql) =>
      sql`update public.video_jobs set next_attempt_at = now() where id = any(${ids}::uuid[]) and status in ('queued', 'submitted', 'rendering')`,
  );
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export interface SseEvent {
  event: string;
  data: Json;
  at: number; // ms since the request was sent
}

/** POSTs to a function asking for text/event-stream and reads every event as it arrives. */
export async function postForEvents(
  token: string,
  path: string,
  body: unknown,
): Promise<{ status: number; headers: Headers; events: SseEvent[]; raw: string }> {
  const started = performance.now();
  const res = await fetch(`${stack.url}/functions/v1/${path}`, {
    method: 'POST',
    headers: { apikey: stack.anonKey, Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'text/event-stream' },
    body: JSON.stringify(body),
  });
  const events: SseEvent[] = [];
  let raw = '';
  if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    raw = await res.text();
    return { status: res.status, headers: res.headers, events, raw };
  }
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    raw += value;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (event && data !== undefined) events.push({ event, data: JSON.parse(data), at: performance.now() - started });
    }
  }
  return { status: res.status, headers: res.headers, events, raw };
}
