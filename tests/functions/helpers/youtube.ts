// Helpers for the YouTube tests against a running stack: the fake YouTube's control API, the
// OAuth flow as a browser walks it (start → Google's consent page with auto=1 → callback), runs
// of the sync worker, and snapshots of what a sync stored.
import { assertEquals } from '../assert.ts';
import { helperCommand } from './process.ts';
import { type Answer, callFunction, type Json, stack, type TestUser, withDb } from './users.ts';

export const fakesUrl = () => {
  const v = Deno.env.get('LOCAL_FAKES_URL');
  if (!v) throw new Error('LOCAL_FAKES_URL is not set: run these tests against a running stack');
  return v.replace(/\/+$/, '');
};

export async function control(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${fakesUrl()}/_control/${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`fake control ${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

export interface FakeChannel {
  channelId: string;
  uploadsPlaylistId: string;
  title: string;
  videoCount: number;
  refreshToken: string;
  accessToken: string;
}

export function createFakeChannel(videos: number, label = 'yt'): Promise<FakeChannel> {
  return control('POST', 'youtube/channels', { videos, seed: `${label}-${crypto.randomUUID()}` });
}

export async function addFault(rule: Record<string, unknown>): Promise<string> {
  return (await control('POST', 'faults', rule)).id;
}

export async function clearFaults(): Promise<void> {
  await control('DELETE', 'faults');
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  body: string;
  status?: number;
  fault?: string;
  at: string;
}

export async function fakeRequests(since: Date, pathPrefix = '/'): Promise<RecordedRequest[]> {
  const q = new URLSearchParams({ since: since.toISOString(), pathPrefix });
  return (await control('GET', `requests?${q}`)).requests;
}

/**
 * Data API calls recorded since `since` for one resource (channels, playlistItems, videos). The
 * health check's pg_cron job probes videos.list (id=health-probe) every minute on the same fake,
 * so its requests are left out, or a count would depend on when the minute turns.
 */
export function dataCalls(requests: RecordedRequest[], resource: string): RecordedRequest[] {
  return requests.filter((r) => r.path === `/youtube/youtube/v3/${resource}` && r.query.id !== HEALTH_PROBE_ID);
}

const HEALTH_PROBE_ID = 'health-probe';

export function analyticsCalls(requests: RecordedRequest[]): RecordedRequest[] {
  return requests.filter((r) => r.path === '/youtube-analytics/v2/reports');
}

// ---- the OAuth flow --------------------------------------------------------------------------

export interface ConnectFlow {
  start: Answer;
  consentUrl: URL;
  callbackUrl: string;
  /** The callback's redirect to the web app (code and state in its fragment). */
  callback: Response;
  /** The web app's POST /complete with the signed-in user's token. */
  complete: Answer;
}

export async function startConnect(user: TestUser, workspaceId: string): Promise<{ answer: Answer; consentUrl: URL }> {
  const answer = await user.call('youtube-oauth/start', { method: 'POST', body: { workspace_id: workspaceId } });
  assertEquals(answer.status, 200, JSON.stringify(answer.body));
  return { answer, consentUrl: new URL(answer.body.url) };
}

/** Follows the consent URL as the fake's "Allow" for `youtubeChannelId`; returns the callback URL. */
export async function consent(consentUrl: URL, youtubeChannelId: string): Promise<string> {
  const url = new URL(consentUrl);
  url.searchParams.set('channel_id', youtubeChannelId);
  url.searchParams.set('auto', '1');
  const res = await fetch(url, { redirect: 'manual' });
  await res.body?.cancel();
  assertEquals(res.status, 302, `consent page answered ${res.status}`);
  return res.headers.get('location')!;
}

export async function getCallback(callbackUrl: string, accept = 'application/json'): Promise<{ res: Response; body: string }> {
  const res = await fetch(callbackUrl, { redirect: 'manual', headers: { Accept: accept } });
  return { res, body: await res.text() };
}

/** The code and state the callback handed to the web app in the fragment of its redirect. */
export function handedOver(callback: Response): { state: string; code: string } {
  assertEquals(callback.status, 302, `callback answered ${callback.status}`);
  const location = new URL(callback.headers.get('location')!);
  assertEquals(`${location.origin}${location.pathname}`, `${Deno.env.get('WEB_APP_URL')}/channels`);
  const fragment = new URLSearchParams(location.hash.slice(1));
  const state = fragment.get('oauth_state');
  const code = fragment.get('oauth_code');
  if (!state || !code) throw new Error(`callback redirected without code and state: ${location}`);
  return { state, code };
}

/** What the web app does with the handed-over code and state: POST /complete as `user`. */
export function completeConnect(user: TestUser, handed: { state: string; code: string }): Promise<Answer> {
  return user.call('youtube-oauth/complete', { method: 'POST', body: handed });
}

/** start → consent → callback through the gateway → the web app's /complete, as a browser would. */
export async function connectChannel(user: TestUser, workspaceId: string, youtubeChannelId: string): Promise<ConnectFlow> {
  const { answer, consentUrl } = await startConnect(user, workspaceId);
  const callbackUrl = await consent(consentUrl, youtubeChannelId);
  const { res } = await getCallback(callbackUrl);
  const complete = await completeConnect(user, handedOver(res));
  return { start: answer, consentUrl, callbackUrl, callback: res, complete };
}

/** The channel id /complete answered with (asserts it connected). */
export function connectedId(flow: ConnectFlow): string {
  assertEquals(flow.complete.status, 200, `complete answered ${flow.complete.status}: ${JSON.stringify(flow.complete.body)}`);
  const id = flow.complete.body.channel_id;
  if (typeof id !== 'string') throw new Error(`complete answered without channel_id: ${JSON.stringify(flow.complete.body)}`);
  return id;
}

// ---- database views --------------------------------------------------------------------------

export interface StoredTokens {
  refresh_token: string | null;
  access_token: string | null;
  access_token_expires_at: Date | null;
  updated_at: Date;
  refresh_raw: string | null;
  access_raw: string | null;
}

/** The decrypted tokens and the raw stored bytes (as escape-encoded text), or null. */
export async function storedTokens(channelId: string): Promise<StoredTokens | null> {
  const rows = await withDb(
    (sql) => sql<StoredTokens[]>`
    select t.refresh_token, t.access_token, t.access_token_expires_at, t.updated_at,
      encode(c.refresh_token_enc, 'escape') as refresh_raw, encode(c.access_token_enc, 'escape') as access_raw
    from private.channel_credentials(${channelId}) t
    join private.channel_credentials c on c.channel_id = ${channelId}`,
  );
  return rows[0] ?? null;
}

export interface RunRow {
  id: string;
  channel_id: string;
  trigger: string;
  status: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date | null;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  cursor: Json;
  stats: Json;
}

export async function runsOf(channelId: string): Promise<RunRow[]> {
  return await withDb((sql) => sql<RunRow[]>`select * from public.sync_runs where channel_id = ${channelId} order by created_at`);
}

export async function runById(runId: string): Promise<RunRow> {
  const [row] = await withDb((sql) => sql<RunRow[]>`select * from public.sync_runs where id = ${runId}`);
  return row;
}

const OPEN = ['queued', 'running', 'waiting_quota'];

/**
 * Drives a run to an end: calls the worker for it (another worker, woken by pg_cron or a
 * connect, may hold it: then waits for that one) until it is no longer queued or running.
 */
export async function driveRun(runId: string, opts: { timeoutMs?: number; timeBudgetMs?: number } = {}): Promise<RunRow> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const run = await runById(runId);
    if (!OPEN.includes(run.status) || run.status === 'waiting_quota') return run;
    if (Date.now() > deadline)
      throw new Error(`run ${runId} still ${run.status} after ${opts.timeoutMs ?? 60_000} ms: ${JSON.stringify(run)}`);
    // Due: queued for now, or running under a lease that has run out (its worker died).
    if (run.next_attempt_at === null || run.next_attempt_at.getTime() <= Date.now()) {
      const res = await callFunction(stack.serviceKey, 'youtube-sync/worker', {
        method: 'POST',
        body: { run_id: runId, ...(opts.timeBudgetMs !== undefined ? { time_budget_ms: opts.timeBudgetMs } : {}) },
      });
      assertEquals(res.status, 200, JSON.stringify(res.body));
    } else {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The channel's open or latest run, driven to its end. */
export async function syncToEnd(channelId: string, opts: { timeoutMs?: number; timeBudgetMs?: number } = {}): Promise<RunRow> {
  const runs = await runsOf(channelId);
  const run = runs.find((r) => OPEN.includes(r.status)) ?? runs.at(-1);
  if (!run) throw new Error(`no sync run for channel ${channelId}`);
  return await driveRun(run.id, opts);
}

/** Queues a manual run straight in the database (no rate limit, no wake-up). */
export async function queueRun(channelId: string, trigger = 'manual'): Promise<string> {
  const [row] = await withDb(
    (sql) => sql<{ sync_run_id: string }[]>`
    select e.sync_run_id from public.channels c, private.enqueue_sync_run(c.id, c.workspace_id, ${trigger}, null) e
    where c.id = ${channelId}`,
  );
  return row.sync_run_id;
}

/**
 * Processes a run already claimed for `workerId` in a process of its own (youtube-worker-process),
 * which a test kills (SIGKILL) mid-run as a crashed or timed-out function dies.
 */
export function syncWorkerProcess(runId: string, workerId: string): Deno.ChildProcess {
  return helperCommand('youtube-worker-process.ts', [runId, workerId], { stdout: 'null', stderr: 'null' }).spawn();
}

export interface Snapshot {
  videos: string[];
  metrics: string[];
}

/** Everything a sync stored for the channel, as sorted lines (ids are natural YouTube ids). */
export async function snapshot(channelId: string): Promise<Snapshot> {
  return await withDb(async (sql) => {
    const videos = await sql<{ line: string }[]>`
      select concat_ws('|', youtube_video_id, title, published_at, duration_seconds, is_short, privacy_status,
        view_count, like_count, comment_count, array_to_string(tags, ',')) as line
      from public.videos where channel_id = ${channelId} order by youtube_video_id`;
    const metrics = await sql<{ line: string }[]>`
      select concat_ws('|', v.youtube_video_id, m.day, m.views, m.estimated_minutes_watched, m.average_view_duration,
        m.average_view_percentage, m.likes, m.comments, m.shares, m.subscribers_gained, m.subscribers_lost) as line
      from public.video_metrics m join public.videos v on v.id = m.video_id
      where v.channel_id = ${channelId} order by v.youtube_video_id, m.day`;
    return { videos: videos.map((r) => r.line), metrics: metrics.map((r) => r.line) };
  });
}

/** Removes what syncs stored for the channel (videos cascade to metrics and scores). */
export async function forgetSyncedData(channelId: string): Promise<void> {
  await withDb((sql) => sql`delete from public.videos where channel_id = ${channelId}`);
}

const DAY_MS = 86_400_000;

/** Daily rows the fake's Analytics has for the channel: each video from its publish day (UTC) to two days ago. */
export async function expectedMetricRows(youtubeChannelId: string): Promise<number> {
  const { videos } = await control('GET', `youtube/channels/${youtubeChannelId}/videos`);
  const lastDay = Math.floor(Date.now() / DAY_MS) - 2;
  let rows = 0;
  for (const v of videos as { publishedAt: string }[]) rows += Math.max(0, lastDay - Math.floor(Date.parse(v.publishedAt) / DAY_MS) + 1);
  return rows;
}

/** Strings a response, log or column must never contain. */
export function assertNoSecrets(haystack: string, secrets: (string | null | undefined)[], where: string) {
  for (const s of secrets) {
    if (!s) continue;
    if (haystack.includes(s)) throw new Error(`${where} contains a token (${s.slice(0, 8)}…)`);
  }
}
