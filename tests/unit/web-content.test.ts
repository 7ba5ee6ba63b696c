// The Studio's logic: SSE frame parsing (frames cut anywhere), generation events, the streamed
// generate-content call against a fake fetch, edit field conversion, and role/status rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionsInvoker } from '../../web/src/lib/api.ts';
import { ApiError } from '../../web/src/lib/api-error.ts';
import { fieldToText, itemHeadline, textToField } from '../../web/src/lib/content/kinds.ts';
import { review, saveVersion } from '../../web/src/lib/content/api.ts';
import { createSseParser, type SseEvent } from '../../web/src/lib/content/sse.ts';
import {
  parseGenerationEvent,
  progressLabel,
  streamGeneration,
  streamTransport,
  type GenerationEvent,
} from '../../web/src/lib/content/generation.ts';
import { contentActions, rejectReasonProblem } from '../../web/src/lib/content/rules.ts';
import { fetchWithAuth } from '../../web/src/lib/supabase-client.ts';

const content = {
  id: 'c1',
  workspace_id: 'w1',
  kind: 'script',
  status: 'draft',
  current_version: 1,
  approved_version: null,
  output: { items: [{ title: 'T', hook: 'H', script: 'S', call_to_action: 'C', estimated_duration_seconds: 40 }] },
  brief: {},
  model: 'gemini',
  rejection_reason: null,
  created_at: '2026-11-26T00:00:00Z',
  updated_at: '2026-11-26T00:00:00Z',
};

function frames(events: [string, unknown][]): string {
  return events.map(([e, d]) => `event: ${e}\ndata: ${JSON.stringify(d)}\n\n`).join('');
}

test('the SSE parser yields the same events however the stream is cut, skipping comments', () => {
  const text = `: keep-alive\n\n${frames([
    ['started', { a: 1 }],
    ['progress', { b: 2 }],
  ])}data: line1\r\ndata: line2\r\n\r\n`;
  const whole: SseEvent[] = [];
  const p1 = createSseParser((e) => whole.push(e));
  p1.push(text);
  assert.deepEqual(whole, [
    { event: 'started', data: '{"a":1}' },
    { event: 'progress', data: '{"b":2}' },
    { event: 'message', data: 'line1\nline2' },
  ]);
  for (let size = 1; size <= 7; size++) {
    const got: SseEvent[] = [];
    const p = createSseParser((e) => got.push(e));
    for (let i = 0; i < text.length; i += size) p.push(text.slice(i, i + size));
    assert.deepEqual(got, whole, `chunks of ${size}`);
  }
});

test('an unterminated last event is dropped at the end of the stream', () => {
  const got: SseEvent[] = [];
  const p = createSseParser((e) => got.push(e));
  p.push('event: done\ndata: {}');
  p.end();
  assert.deepEqual(got, []);
});

test('generation events are checked; malformed or unknown ones are ignored', () => {
  assert.deepEqual(parseGenerationEvent({ event: 'progress', data: '{"attempt":1,"chunks":3,"characters":450}' }), {
    type: 'progress',
    attempt: 1,
    chunks: 3,
    characters: 450,
  });
  assert.equal(parseGenerationEvent({ event: 'progress', data: '{"attempt":"x"}' }), null);
  assert.equal(parseGenerationEvent({ event: 'progress', data: 'not json' }), null);
  assert.equal(parseGenerationEvent({ event: 'heartbeat', data: '{}' }), null);
  const err = parseGenerationEvent({
    event: 'error',
    data: JSON.stringify({ status: 422, error: { code: 'content_blocked', message: 'blocked', request_id: 'rid' } }),
  });
  assert.ok(err && err.type === 'error');
  assert.equal(err.error.status, 422);
  assert.equal(err.error.requestId, 'rid');
});

function sseFetch(body: string, init: { status?: number; contentType?: string } = {}) {
  const seen: { url: string; headers: Headers; body: string }[] = [];
  const f: typeof fetch = async (input, req) => {
    seen.push({ url: String(input), headers: new Headers(req?.headers), body: String(req?.body) });
    const enc = new TextEncoder();
    // Served in small pieces, as a network would.
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < body.length; i += 13) c.enqueue(enc.encode(body.slice(i, i + 13)));
        c.close();
      },
    });
    return new Response(stream, {
      status: init.status ?? 200,
      headers: { 'content-type': init.contentType ?? 'text/event-stream; charset=utf-8' },
    });
  };
  return { f, seen };
}

test('streamGeneration reports progress and resolves with the saved content, with auth headers', async () => {
  const body = frames([
    ['started', { model: 'm', prompt_version: 'v', source_videos: 2 }],
    ['progress', { attempt: 1, chunks: 1, characters: 150 }],
    ['progress', { attempt: 1, chunks: 2, characters: 315 }],
    ['done', { content }],
  ]);
  const { f, seen } = sseFetch(body);
  const transport = streamTransport({ supabaseUrl: 'http://h:1', supabaseAnonKey: 'anon' }, async () => 'tok', f, fetchWithAuth);
  const events: GenerationEvent[] = [];
  const saved = await streamGeneration(transport, { workspace_id: 'w1', kind: 'script', topic: 'x' }, (e) => events.push(e));
  assert.equal(saved.id, 'c1');
  assert.deepEqual(
    events.map((e) => e.type),
    ['started', 'progress', 'progress'],
  );
  assert.equal(seen[0].url, 'http://h:1/functions/v1/generate-content');
  assert.equal(seen[0].headers.get('accept'), 'text/event-stream');
  assert.equal(seen[0].headers.get('authorization'), 'Bearer tok');
  assert.equal(seen[0].headers.get('apikey'), 'anon');
  assert.match(seen[0].headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  assert.deepEqual(JSON.parse(seen[0].body), { workspace_id: 'w1', kind: 'script', topic: 'x' });
});

test('streamGeneration rejects with the error event, a JSON error answer, or a stream cut short', async () => {
  const transport = (f: typeof fetch) => ({ functionsUrl: 'http://h/functions/v1', fetch: f });
  const errEvent = frames([
    ['started', { model: 'm', prompt_version: 'v', source_videos: 0 }],
    ['error', { status: 502, error: { code: 'invalid_model_output', message: 'bad output twice', request_id: 'r-1' } }],
  ]);
  await assert.rejects(
    streamGeneration(transport(sseFetch(errEvent).f), { workspace_id: 'w', kind: 'idea', topic: 'x' }, () => {}),
    (e: ApiError) => e.status === 502 && e.code === 'invalid_model_output' && e.requestId === 'r-1',
  );

  const json = sseFetch(JSON.stringify({ error: { code: 'forbidden', message: 'only editors', request_id: 'r-2' } }), {
    status: 403,
    contentType: 'application/json',
  });
  await assert.rejects(
    streamGeneration(transport(json.f), { workspace_id: 'w', kind: 'idea', topic: 'x' }, () => {}),
    (e: ApiError) => e.status === 403 && e.message.includes('only editors'),
  );

  const cut = frames([['progress', { attempt: 1, chunks: 1, characters: 5 }]]);
  await assert.rejects(
    streamGeneration(transport(sseFetch(cut).f), { workspace_id: 'w', kind: 'idea', topic: 'x' }, () => {}),
    (e: ApiError) => e.code === 'stream_ended' && typeof e.requestId === 'string',
  );
});

test('viewers get no edit or review controls; review buttons follow the status', () => {
  assert.deepEqual(contentActions('draft', 'viewer'), { edit: false, submit: false, approve: false, reject: false });
  assert.deepEqual(contentActions('draft', 'editor'), { edit: true, submit: true, approve: false, reject: false });
  assert.deepEqual(contentActions('in_review', 'owner'), { edit: true, submit: false, approve: true, reject: true });
  assert.deepEqual(contentActions('rejected', 'editor'), { edit: true, submit: true, approve: false, reject: false });
  assert.deepEqual(contentActions('approved', 'editor'), { edit: true, submit: false, approve: false, reject: false });
});

test('edit fields convert both ways; bad numbers and short reasons are explained', () => {
  assert.equal(fieldToText(['#a', '#b'], 'list'), '#a, #b');
  assert.deepEqual(textToField(' #a, ,#b ', 'list'), { ok: true, value: ['#a', '#b'] });
  assert.deepEqual(textToField('45', 'seconds'), { ok: true, value: 45 });
  assert.equal(textToField('4.5', 'seconds').ok, false);
  assert.equal(textToField('2', 'seconds').ok, false);
  assert.equal(rejectReasonProblem('  no'), 'Give a reason of at least 3 characters.');
  assert.equal(rejectReasonProblem('too vague'), null);
  assert.equal(itemHeadline('script', { title: '', hook: 'Hook first' }), 'Hook first');
});

test('progress labels describe the latest event', () => {
  assert.equal(progressLabel(null), 'Sending the request…');
  assert.equal(
    progressLabel({ type: 'progress', attempt: 1, chunks: 9, characters: 1434 }),
    'Writing… attempt 1: 9 chunks, 1,434 characters',
  );
  assert.match(progressLabel({ type: 'retry', attempt: 1, reason: 'invalid output', delay_ms: 1500 }), /retrying in 1.5 s/);
});

test('edits and reviews call the content function with the right paths and bodies', async () => {
  const calls: { name: string; method?: string; body?: unknown }[] = [];
  const c: FunctionsInvoker = {
    functions: {
      invoke: async (name, o) => {
        calls.push({ name, method: o.method, body: o.body });
        return {
          data: name.endsWith('versions')
            ? { content, version: { version: 2, output: content.output, note: null, created_by: null, created_at: content.created_at } }
            : { content },
          error: null,
        };
      },
    },
  };
  await saveVersion(c, 'c1', content.output, 'tightened');
  await review(c, 'c1', 'reject', 'off-brand');
  await review(c, 'c1', 'submit');
  assert.deepEqual(calls, [
    { name: 'content/c1/versions', method: 'POST', body: { output: content.output, note: 'tightened' } },
    { name: 'content/c1/reject', method: 'POST', body: { reason: 'off-brand' } },
    { name: 'content/c1/submit', method: 'POST', body: {} },
  ]);
});
