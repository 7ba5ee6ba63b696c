// The YouTube client's pure parts, with a scripted fetch: backoff with jitter, Retry-After,
// which statuses retry, the quota hook before every attempt, refresh on 401, quotaExceeded,
// secret scrubbing, duration parsing, consent host selection, and analytics report planning.
import { assertEquals, assertOk } from './assert.ts';
import { YouTubeCaller } from '../../supabase/functions/_shared/integrations/youtube/api-caller.ts';
import { looksLikeShort, parseIsoDuration } from '../../supabase/functions/_shared/integrations/youtube/data-api-client.ts';
import {
  QuotaExhaustedError,
  redactSecrets,
  YouTubeApiError,
  YouTubeTransientError,
} from '../../supabase/functions/_shared/integrations/youtube/errors.ts';
import { consentBaseFor } from '../../supabase/functions/_shared/integrations/youtube/google-config.ts';
import { logEvent } from '../../supabase/functions/_shared/integrations/youtube/event-log.ts';
import {
  backoffDelay,
  DEFAULT_RETRY,
  fetchWithRetry,
  parseRetryAfter,
} from '../../supabase/functions/_shared/integrations/youtube/http-retry.ts';
import { planBatches, startDayFor } from '../../supabase/functions/youtube-sync/plan.ts';
import { transientDelaySeconds } from '../../supabase/functions/youtube-sync/engine.ts';

type Step = Response | Error;

/** A fetch that answers from a script and records the requests it saw. */
function scriptedFetch(steps: Step[]) {
  const seen: Request[] = [];
  const fn = (input: RequestInfo | URL, _init?: RequestInit) => {
    seen.push(input as Request);
    const next = steps.shift();
    if (!next) throw new Error('script exhausted');
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  };
  return { fetch: fn as typeof fetch, seen };
}

const googleError = (status: number, reason: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ error: { code: status, message: `m-${reason}`, errors: [{ reason, domain: 'x' }] } }), { status, headers });

const policy = { ...DEFAULT_RETRY, maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 };

Deno.test('backoff: full jitter within [0, min(max, base·2^(n-1))]', () => {
  assertEquals(
    backoffDelay(1, policy, () => 1),
    100,
  );
  assertEquals(
    backoffDelay(3, policy, () => 1),
    400,
  );
  assertEquals(
    backoffDelay(10, policy, () => 1),
    1000,
  );
  assertEquals(
    backoffDelay(5, policy, () => 0),
    0,
  );
  const samples = Array.from({ length: 200 }, () => backoffDelay(2, policy));
  assertOk(samples.every((d) => d >= 0 && d <= 200) && new Set(samples).size > 20, 'jittered');
});

Deno.test('Retry-After: seconds or an HTTP date', () => {
  assertEquals(parseRetryAfter('7'), 7000);
  assertEquals(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1)), 30_000);
  assertEquals(parseRetryAfter(null), undefined);
  assertEquals(parseRetryAfter('soon'), undefined);
});

Deno.test('retries 5xx, 429 (honouring Retry-After), rate-limit 403s and network errors; stops on other 4xx', async () => {
  const sleeps: number[] = [];
  let attempts = 0;
  const hooks = {
    sleep: (ms: number) => (sleeps.push(ms), Promise.resolve()),
    random: () => 0.5,
    beforeAttempt: () => (attempts++, Promise.resolve()),
  };

  const ok = scriptedFetch([
    new Response('x', { status: 503 }),
    googleError(429, 'rateLimitExceeded', { 'Retry-After': '2' }),
    new TypeError('connection reset'),
    googleError(403, 'userRateLimitExceeded'),
    new Response('{"fine":1}'),
  ]);
  const res = await fetchWithRetry('t', () => new Request('http://x/'), { ...policy, maxAttempts: 5 }, { ...hooks, fetch: ok.fetch });
  assertEquals(res.status, 200);
  assertEquals(res.text, '{"fine":1}');
  assertEquals(attempts, 5, 'the quota hook ran before every attempt');
  assertEquals(sleeps, [50, 2000, 200, 400], 'jittered backoff, Retry-After as a floor');

  const notFound = scriptedFetch([googleError(404, 'notFound'), new Response('unused')]);
  assertEquals((await fetchWithRetry('t', () => new Request('http://x/'), policy, { ...hooks, fetch: notFound.fetch })).status, 404);
  assertEquals(notFound.seen.length, 1);
  const quota = scriptedFetch([googleError(403, 'quotaExceeded')]);
  assertEquals((await fetchWithRetry('t', () => new Request('http://x/'), policy, { ...hooks, fetch: quota.fetch })).status, 403);
});

Deno.test('gives up after maxAttempts, or at once when Retry-After is longer than it will sleep', async () => {
  const hooks = { sleep: () => Promise.resolve() };
  const down = scriptedFetch([500, 500, 500, 500].map((s) => new Response('', { status: s })));
  try {
    await fetchWithRetry('videos.list', () => new Request('http://x/'), policy, { ...hooks, fetch: down.fetch });
    throw new Error('expected a transient error');
  } catch (err) {
    assertOk(err instanceof YouTubeTransientError, String(err));
    assertOk((err as Error).message.includes('after 4 attempts'), (err as Error).message);
  }
  const slow = scriptedFetch([new Response('', { status: 429, headers: { 'Retry-After': '600' } })]);
  try {
    await fetchWithRetry('videos.list', () => new Request('http://x/'), policy, { ...hooks, fetch: slow.fetch });
    throw new Error('expected a transient error');
  } catch (err) {
    assertOk(err instanceof YouTubeTransientError);
    assertEquals((err as YouTubeTransientError).retryAfterMs, 600_000);
    assertEquals(slow.seen.length, 1);
  }
  assertEquals(transientDelaySeconds(1, 600_000), 600);
  assertEquals(transientDelaySeconds(3), 120);
});

Deno.test('caller: a 401 refreshes the token once and repeats the call; quotaExceeded and other 4xx become typed errors', async () => {
  const tokens = { current: 'ya29.old', refreshes: 0 };
  const source = {
    get: () => Promise.resolve(tokens.current),
    refresh: () => (tokens.refreshes++, (tokens.current = 'ya29.new'), Promise.resolve(tokens.current)),
  };
  const script = scriptedFetch([googleError(401, 'authError'), new Response('{"items":[]}')]);
  const caller = new YouTubeCaller({ tokens: source, retry: policy, hooks: { fetch: script.fetch, sleep: () => Promise.resolve() } });
  assertEquals(await caller.getJson('channels.list', new URL('http://x/channels')), { items: [] });
  assertEquals(tokens.refreshes, 1);
  assertEquals(
    script.seen.map((r) => r.headers.get('authorization')),
    ['Bearer ya29.old', 'Bearer ya29.new'],
  );
  assertEquals(caller.stats.calls, 2);

  const twice = scriptedFetch([googleError(401, 'authError'), googleError(401, 'authError')]);
  const c2 = new YouTubeCaller({ tokens: source, retry: policy, hooks: { fetch: twice.fetch } });
  await c2.getJson('x', new URL('http://x/')).then(
    () => assertOk(false),
    (err) => assertOk(err instanceof YouTubeApiError && err.status === 401),
  );

  const quota = new YouTubeCaller({
    tokens: source,
    retry: policy,
    hooks: { fetch: scriptedFetch([googleError(403, 'quotaExceeded')]).fetch },
  });
  await quota.getJson('videos.list', new URL('http://x/')).then(
    () => assertOk(false),
    (err) => assertOk(err instanceof QuotaExhaustedError && err.source === 'google'),
  );

  // The quota hook refusing: no request leaves.
  const none = scriptedFetch([]);
  const refused = new YouTubeCaller({
    tokens: source,
    quota: (endpoint) => Promise.reject(new QuotaExhaustedError(endpoint, 'budget', { usedToday: 10, dailyBudget: 10, units: 1 })),
    hooks: { fetch: none.fetch },
  });
  await refused.getJson('videos.list', new URL('http://x/')).then(
    () => assertOk(false),
    (err) => assertOk(err instanceof QuotaExhaustedError),
  );
  assertEquals(none.seen.length, 0);
});

Deno.test('secrets are scrubbed from any text', () => {
  const text = 'Bearer ya29.a0AfH6SM-abc_def refresh=1//0gXyz-123 code=4/0AX4XfWh-long-code-here&state=ok access_token=ya29.zzz';
  const clean = redactSecrets(text);
  for (const secret of ['ya29.a0AfH6SM-abc_def', '1//0gXyz-123', '4/0AX4XfWh-long-code-here', 'ya29.zzz'])
    assertEquals(clean.includes(secret), false, clean);
  assertOk(clean.includes('state=ok'));
});

Deno.test('a log line stays JSON when a secret in it is followed by a quote', () => {
  const lines: string[] = [];
  const original = console.warn;
  console.warn = (line: string) => lines.push(line);
  try {
    logEvent('warn', 'probe', { message: 'refused: token=s3cr3t" then code=abc\\ and access_token=xyz\'' });
  } finally {
    console.warn = original;
  }
  const line = JSON.parse(lines[0]);
  assertEquals(line.message, 'refused: token=<redacted>" then code=<redacted>\\ and access_token=<redacted>\'');
});

Deno.test('ISO 8601 durations and the Shorts heuristic', () => {
  assertEquals(parseIsoDuration('PT4M13S'), 253);
  assertEquals(parseIsoDuration('PT1H2M'), 3720);
  assertEquals(parseIsoDuration('P1DT1S'), 86_401);
  assertEquals(parseIsoDuration('P0D'), 0);
  assertEquals(parseIsoDuration('nonsense'), null);
  assertEquals(looksLikeShort(45, 'x', []), true);
  assertEquals(looksLikeShort(150, 'Quick one #shorts', []), true);
  assertEquals(looksLikeShort(150, 'A talk', []), false);
  assertEquals(looksLikeShort(null, 'x', []), null);
});

Deno.test('consent host: accounts.google.com for Google, the same base for an emulator, or GOOGLE_AUTH_BASE', () => {
  assertEquals(consentBaseFor('https://oauth2.googleapis.com'), 'https://accounts.google.com');
  assertEquals(consentBaseFor('http://127.0.0.1:54333/oauth'), 'http://127.0.0.1:54333/oauth');
  assertEquals(consentBaseFor('https://oauth2.googleapis.com', 'https://proxy.example'), 'https://proxy.example');
});

Deno.test('analytics plan: new videos from their publish day, known ones from their last day minus 3, bounded reports', () => {
  const end = '2026-11-26';
  assertEquals(startDayFor({ youtubeVideoId: 'a', publishedOn: '2026-01-10', lastMetricDay: null }, end), '2026-01-10');
  assertEquals(startDayFor({ youtubeVideoId: 'a', publishedOn: '2026-01-10', lastMetricDay: '2026-11-24' }, end), '2026-11-21');
  assertEquals(startDayFor({ youtubeVideoId: 'a', publishedOn: '2026-11-23', lastMetricDay: '2026-11-24' }, end), '2026-11-23');
  assertEquals(startDayFor({ youtubeVideoId: 'a', publishedOn: null, lastMetricDay: null }, end), '2026-10-27');

  // 120 videos that only need the restatement window fit 50 to a report.
  const recent = Array.from({ length: 120 }, (_, i) => ({
    youtubeVideoId: `v${i}`,
    publishedOn: '2025-01-01',
    lastMetricDay: '2026-11-24',
  }));
  assertEquals(
    planBatches(recent, end, 'batch').map((b) => b.ids.length),
    [50, 50, 20],
  );
  // A year of history each: bounded by rows (10,000 / 365 = 27 videos).
  const old = Array.from({ length: 60 }, (_, i) => ({ youtubeVideoId: `o${i}`, publishedOn: '2025-11-27', lastMetricDay: null }));
  const batches = planBatches(old, end, 'batch');
  assertEquals(
    batches.map((b) => b.ids.length),
    [27, 27, 6],
  );
  assertEquals(batches[0].start, '2025-11-27');
  // Every video exactly once.
  assertEquals(batches.flatMap((b) => b.ids).sort(), old.map((v) => v.youtubeVideoId).sort());
  assertEquals(
    planBatches(old.slice(0, 3), end, 'per_video').map((b) => b.ids),
    [['o0'], ['o1'], ['o2']],
  );
});
