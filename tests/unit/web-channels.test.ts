import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FunctionsInvoker } from '../../web/src/lib/api.ts';
import { ApiError } from '../../web/src/lib/api-error.ts';
import {
  channelActions,
  channelPermissions,
  completeConnect,
  connectOutcome,
  disconnectChannel,
  getYoutubeQuota,
  isOpenRun,
  listSyncRuns,
  pendingConnect,
  quotaLine,
  requestSync,
  retryAfterSeconds,
  runProgress,
  startConnect,
  statusLabel,
  type SyncRun,
} from '../../web/src/lib/channels.ts';

type Call = { name: string; method?: string; body?: unknown };

// What functions-js returns for a non-2xx answer: an error whose context is the Response.
class FunctionsHttpError extends Error {
  constructor(public context: Response) {
    super('Edge Function returned a non-2xx status code');
    this.name = 'FunctionsHttpError';
  }
}

function client(data: unknown): { c: FunctionsInvoker; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    c: {
      functions: {
        invoke: async (name, options) => {
          calls.push({ name, method: options.method, body: options.body });
          return { data, error: null };
        },
      },
    },
  };
}

function run(overrides: Partial<SyncRun> = {}, progress: Partial<SyncRun['progress']> = {}): SyncRun {
  return {
    id: 'r1',
    channel_id: 'c1',
    trigger: 'manual',
    status: 'running',
    attempts: 1,
    last_error: null,
    next_attempt_at: null,
    created_at: '2026-11-26T06:20:53Z',
    started_at: '2026-11-26T06:21:01Z',
    finished_at: null,
    progress: {
      phase: 'listing',
      pages_listed: 1,
      videos_total: 120,
      videos_listed: 60,
      analytics_batches_done: 0,
      analytics_batches_total: 0,
      ...progress,
    },
    stats: {},
    ...overrides,
  };
}

test('who may do what with channels (as the functions enforce it)', () => {
  assert.deepEqual(channelPermissions('viewer'), { connect: false, sync: false, disconnect: false });
  assert.deepEqual(channelPermissions('editor'), { connect: true, sync: true, disconnect: false });
  assert.deepEqual(channelPermissions('owner'), { connect: true, sync: true, disconnect: true });
});

test('a channel row offers what its status allows', () => {
  assert.deepEqual(channelActions('active', 'owner'), { syncNow: true, reconnect: false, disconnect: true });
  assert.deepEqual(channelActions('reauth_required', 'owner'), { syncNow: false, reconnect: true, disconnect: true });
  assert.deepEqual(channelActions('disconnected', 'owner'), { syncNow: false, reconnect: true, disconnect: false });
  assert.deepEqual(channelActions('reauth_required', 'editor'), { syncNow: false, reconnect: true, disconnect: false });
  assert.deepEqual(channelActions('active', 'viewer'), { syncNow: false, reconnect: false, disconnect: false });
  assert.equal(statusLabel('reauth_required'), 'Needs re-authorisation');
  assert.equal(statusLabel('paused'), 'paused', 'an unknown status shows as it is');
});

test('run progress follows the phases; the label says what happens', () => {
  assert.deepEqual(runProgress(run({ status: 'queued' })), { percent: 0, label: 'Waiting to start' });
  assert.deepEqual(runProgress(run({}, { phase: 'channel' })), { percent: 5, label: 'Reading the channel' });
  assert.deepEqual(runProgress(run()), { percent: 28, label: 'Listing videos: 60 of 120' });
  assert.deepEqual(runProgress(run({}, { videos_total: null, videos_listed: 50 })), { percent: 5, label: 'Listing videos: 50' });
  assert.deepEqual(runProgress(run({}, { phase: 'plan' })), { percent: 50, label: 'Planning analytics requests' });
  assert.deepEqual(runProgress(run({}, { phase: 'analytics', analytics_batches_done: 1, analytics_batches_total: 4 })), {
    percent: 65,
    label: 'Fetching analytics: 1 of 4 batches',
  });
  assert.deepEqual(runProgress(run({}, { phase: 'score' })), { percent: 95, label: 'Scoring videos' });
  assert.deepEqual(runProgress(run({ status: 'succeeded' }, { phase: 'done' })), { percent: 100, label: 'Done' });
  assert.equal(runProgress(run({ status: 'waiting_quota' })).percent, null);
  assert.equal(runProgress(run({ status: 'failed' })).label, 'Failed');
  assert.equal(runProgress(run({}, { videos_total: 1200, videos_listed: 1200 }), 'de').label, 'Listing videos: 1.200 of 1.200');
});

test('open runs are queued, running or waiting for quota', () => {
  for (const status of ['queued', 'running', 'waiting_quota']) assert.equal(isOpenRun({ status }), true, status);
  for (const status of ['succeeded', 'failed']) assert.equal(isOpenRun({ status }), false, status);
  assert.equal(isOpenRun(null), false);
});

test('a 429 tells how long to wait; other errors do not', () => {
  const limited = new ApiError({ status: 429, code: 'rate_limited', message: 'wait', details: { retry_after_seconds: 281 } });
  assert.equal(retryAfterSeconds(limited), 281);
  assert.equal(
    retryAfterSeconds(new ApiError({ status: 429, code: 'rate_limited', message: 'wait', details: { retry_after_seconds: 2.2 } })),
    3,
  );
  assert.equal(retryAfterSeconds(new ApiError({ status: 429, code: 'rate_limited', message: 'wait' })), null);
  assert.equal(retryAfterSeconds(new ApiError({ status: 409, code: 'x', message: 'y', details: { retry_after_seconds: 5 } })), null);
});

test('the outcome of the OAuth round trip, from the callback’s query', () => {
  assert.deepEqual(connectOutcome(new URLSearchParams('connected=abc')), {
    kind: 'connected',
    channelId: 'abc',
    message: 'Channel connected. Its first sync has started; progress shows below.',
  });
  const denied = connectOutcome(new URLSearchParams('error=access_denied'));
  assert.equal(denied?.kind, 'error');
  assert.match(denied!.message, /cancelled on Google’s consent page/);
  // The callback's own refusals arrive the same way (no HTML page: hosted would show it as text).
  assert.match(connectOutcome(new URLSearchParams('error=state_expired'))!.message, /expired \(links last 10 minutes\)/);
  assert.match(connectOutcome(new URLSearchParams('error=channel_in_other_workspace'))!.message, /already connected to another workspace/);
  const unknown = connectOutcome(new URLSearchParams('error=something_new'));
  assert.equal(unknown?.message, 'Connecting failed (something_new). Please try again.');
  const hostile = connectOutcome(new URLSearchParams('error=<script>'));
  assert.deepEqual([hostile?.kind, hostile && 'code' in hostile ? hostile.code : null], ['error', 'oauth_error']);
  assert.equal(connectOutcome(new URLSearchParams('')), null);
});

test('connect, disconnect, sync now and runs call the functions with the right shapes', async () => {
  const started = client({ url: 'https://accounts.google.com/o/oauth2/v2/auth?state=x', expires_at: '2026-11-26T06:30:00Z' });
  assert.equal(await startConnect(started.c, 'w1'), 'https://accounts.google.com/o/oauth2/v2/auth?state=x');
  assert.deepEqual(started.calls, [{ name: 'youtube-oauth/start', method: 'POST', body: { workspace_id: 'w1' } }]);
  await assert.rejects(startConnect(client({ url: 'javascript:alert(1)', expires_at: 'x' }).c, 'w1'), /protocol javascript:/);

  const off = client({ channel: { id: 'c1', status: 'disconnected' }, revoked_at_google: true });
  await disconnectChannel(off.c, 'c1');
  assert.deepEqual(off.calls, [{ name: 'youtube-oauth/disconnect', method: 'POST', body: { channel_id: 'c1' } }]);

  const queued = run({ status: 'queued', started_at: null });
  const sync = client({ run: queued, already_open: false });
  assert.deepEqual(await requestSync(sync.c, 'c1'), { run: queued, alreadyOpen: false });
  assert.deepEqual(sync.calls, [{ name: 'youtube-sync', method: 'POST', body: { channel_id: 'c1' } }]);

  const runs = client({ runs: [queued] });
  assert.deepEqual(await listSyncRuns(runs.c, 'c1'), [queued]);
  assert.equal(runs.calls[0].name, 'youtube-sync/runs?channel_id=c1&limit=5');
  await assert.rejects(
    listSyncRuns(client({ runs: [{ id: 'r1' }] }).c, 'c1'),
    (e: unknown) => e instanceof ApiError && e.code === 'unexpected_response',
  );
});

test("the code and state the callback handed over in the fragment are finished with the user's session", async () => {
  assert.deepEqual(pendingConnect('#oauth_state=s1&oauth_code=4%2F0Acode'), { state: 's1', code: '4/0Acode' });
  assert.equal(pendingConnect('#oauth_state=s1'), null);
  assert.equal(pendingConnect(''), null);

  const done = client({ channel_id: 'c9', workspace_id: 'w1', sync_run_id: 'r1' });
  const outcome = await completeConnect(done.c, { state: 's1', code: 'k' });
  assert.deepEqual(outcome, {
    kind: 'connected',
    channelId: 'c9',
    message: 'Channel connected. Its first sync has started; progress shows below.',
  });
  assert.deepEqual(done.calls, [{ name: 'youtube-oauth/complete', method: 'POST', body: { state: 's1', code: 'k' } }]);

  // Someone else's consent link: the server refuses, and the page says why.
  const res = new Response(
    JSON.stringify({ error: { code: 'state_other_user', message: 'started by another account', request_id: 'r' } }),
    {
      status: 403,
      headers: { 'content-type': 'application/json' },
    },
  );
  const refused: FunctionsInvoker = { functions: { invoke: async () => ({ data: null, error: new FunctionsHttpError(res) }) } };
  const other = await completeConnect(refused, { state: 's1', code: 'k' });
  assert.equal(other.kind, 'error');
  assert.match(other.message, /started by another account/);
});

test('the quota line: what is left of the share, and when borrowing starts or the day resets', async () => {
  const q = {
    share_units: 2500,
    used_units: 1700,
    remaining_units: 800,
    project_remaining_units: 6000,
    available_units: 800,
    borrowing: false,
    borrow_from: '2026-12-07T02:00:00.000Z',
    resets_at: '2026-12-07T08:00:00.000Z',
  };
  const prefs = { locale: 'en-US', timeZone: 'UTC' };
  assert.match(
    quotaLine(q, prefs),
    /^YouTube quota today: 800 of this workspace’s 2,500 units left; from .*2:00.* unused project quota can be borrowed\.$/,
  );
  assert.match(quotaLine({ ...q, borrowing: true, available_units: 6000 }, prefs), /borrowed until the reset \(6,000 units left in all\)/);
  assert.match(quotaLine({ ...q, borrow_from: q.resets_at }, prefs), /it resets at .*8:00/);
  const { c, calls } = client({ channels: [], youtube_quota: q });
  assert.deepEqual(await getYoutubeQuota(c, 'ws-1'), q);
  assert.equal(calls[0].name, 'channels?workspace_id=ws-1');
});
