// YouTube channels as the channels page uses them: connect (Google's consent page, then back to
// /channels with the code and state in the fragment, which the page hands to youtube-oauth
// /complete with the signed-in user's session; or /channels?error=<code>), disconnect, sync now,
// and the progress of sync runs.
// Calls go to the youtube-oauth and youtube-sync functions; the list of a workspace's channels
// comes from the insights function (no function lists channels on their own).
import * as z from 'zod/mini';
import { callFunction, type FunctionsInvoker } from './api.ts';
import { ApiError } from './api-error.ts';
import { DEFAULT_PREFS, type DisplayPrefs, formatDateTime, formatNumber } from './format.ts';
import type { Role } from './roles.ts';
import { roleAtLeast } from './roles.ts';

export type ChannelStatus = 'active' | 'reauth_required' | 'disconnected';

export const STATUS_LABELS: Record<ChannelStatus, string> = {
  active: 'Connected',
  reauth_required: 'Needs re-authorisation',
  disconnected: 'Disconnected',
};

export function statusLabel(status: string): string {
  return (STATUS_LABELS as Record<string, string>)[status] ?? status;
}

export interface ChannelPermissions {
  connect: boolean;
  sync: boolean;
  disconnect: boolean;
}

/** The same rules the functions enforce: editors connect and sync, owners disconnect. */
export function channelPermissions(role: Role): ChannelPermissions {
  return { connect: roleAtLeast(role, 'editor'), sync: roleAtLeast(role, 'editor'), disconnect: role === 'owner' };
}

/** Which controls one channel row offers, given its status and the caller's role. */
export function channelActions(status: string, role: Role) {
  const can = channelPermissions(role);
  return {
    syncNow: can.sync && status === 'active',
    reconnect: can.connect && (status === 'reauth_required' || status === 'disconnected'),
    disconnect: can.disconnect && status !== 'disconnected',
  };
}

const Progress = z.object({
  phase: z.string(),
  pages_listed: z.number(),
  videos_total: z.nullable(z.number()),
  videos_listed: z.number(),
  analytics_batches_done: z.number(),
  analytics_batches_total: z.number(),
});

export const SyncRun = z.object({
  id: z.string(),
  channel_id: z.string(),
  trigger: z.string(),
  status: z.string(),
  attempts: z.number(),
  last_error: z.nullable(z.string()),
  next_attempt_at: z.nullable(z.string()),
  created_at: z.string(),
  started_at: z.nullable(z.string()),
  finished_at: z.nullable(z.string()),
  progress: Progress,
  stats: z.looseObject({
    videos_listed: z.optional(z.number()),
    videos_changed: z.optional(z.number()),
    metric_rows: z.optional(z.number()),
    videos_scored: z.optional(z.nullable(z.number())),
    quota_units: z.optional(z.number()),
  }),
});
export type SyncRun = z.infer<typeof SyncRun>;

const Started = z.object({ url: z.string(), expires_at: z.string() });
const SyncRequested = z.object({ run: SyncRun, already_open: z.boolean() });
const Runs = z.object({ runs: z.array(SyncRun) });

/** Starts connecting a channel: the answer is Google's consent URL to send the browser to. */
export async function startConnect(client: FunctionsInvoker, workspaceId: string): Promise<string> {
  const { url } = await callFunction(client, 'youtube-oauth/start', {
    method: 'POST',
    body: { workspace_id: workspaceId },
    schema: Started,
  });
  // Only ever navigate to an http(s) URL, whatever the answer holds.
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new Error(`refusing to open a consent URL with protocol ${parsed.protocol}`);
  return parsed.href;
}

const Completed = z.object({ channel_id: z.string() });

/** What the OAuth callback handed over in the fragment: the code and state to finish with. */
export function pendingConnect(hash: string): { state: string; code: string } | null {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const state = params.get('oauth_state');
  const code = params.get('oauth_code');
  return state && code ? { state, code } : null;
}

/**
 * Finishes connecting with the session of the person signed in here: the server connects the
 * channel only when that is the person who started (a consent link opened by someone else is
 * refused), so the outcome is always about this user's own connection.
 */
export async function completeConnect(client: FunctionsInvoker, pending: { state: string; code: string }): Promise<ConnectOutcome> {
  try {
    const { channel_id } = await callFunction(client, 'youtube-oauth/complete', { method: 'POST', body: pending, schema: Completed });
    return connectedOutcome(channel_id);
  } catch (err) {
    // The server's answer says why (refused, expired, another account); no answer at all, or an
    // ended session, is for the caller to report and retry.
    if (!(err instanceof ApiError) || err.status === null || err.status === 401) throw err;
    return errorOutcome(err.code);
  }
}

export async function disconnectChannel(client: FunctionsInvoker, channelId: string): Promise<void> {
  await callFunction(client, 'youtube-oauth/disconnect', { method: 'POST', body: { channel_id: channelId } });
}

export async function requestSync(client: FunctionsInvoker, channelId: string): Promise<{ run: SyncRun; alreadyOpen: boolean }> {
  const answer = await callFunction(client, 'youtube-sync', { method: 'POST', body: { channel_id: channelId }, schema: SyncRequested });
  return { run: answer.run, alreadyOpen: answer.already_open };
}

export async function listSyncRuns(client: FunctionsInvoker, channelId: string, limit = 5): Promise<SyncRun[]> {
  return (await callFunction(client, 'youtube-sync/runs', { query: { channel_id: channelId, limit: String(limit) }, schema: Runs })).runs;
}

const OPEN_STATUSES = new Set(['queued', 'running', 'waiting_quota']);

export function isOpenRun(run: Pick<SyncRun, 'status'> | null | undefined): boolean {
  return !!run && OPEN_STATUSES.has(run.status);
}

export const RUN_STATUS_LABELS: Record<string, string> = {
  queued: 'Queued',
  running: 'Running',
  waiting_quota: 'Waiting for quota',
  succeeded: 'Succeeded',
  failed: 'Failed',
};

export function runStatusLabel(status: string): string {
  return RUN_STATUS_LABELS[status] ?? status;
}

export const TRIGGER_LABELS: Record<string, string> = { manual: 'Manual sync', cron: 'Daily sync', connect: 'First sync' };

export interface RunProgress {
  /** 0–100, or null while nothing measurable has happened yet. */
  percent: number | null;
  label: string;
}

/**
 * How far a run is, from the phase it reports: reading the channel, listing its uploads (by
 * videos listed), planning, fetching analytics (by batches), scoring. The phases take very
 * different times, so the bar is a guide, and the label says what is happening.
 */
export function runProgress(run: Pick<SyncRun, 'status' | 'progress' | 'next_attempt_at'>, locale = 'en'): RunProgress {
  const p = run.progress;
  const n = (x: number) => formatNumber(x, locale);
  if (run.status === 'succeeded') return { percent: 100, label: 'Done' };
  if (run.status === 'failed') return { percent: null, label: 'Failed' };
  if (run.status === 'queued') return { percent: 0, label: 'Waiting to start' };
  if (run.status === 'waiting_quota') return { percent: null, label: 'Paused until YouTube quota is available again' };
  switch (p.phase) {
    case 'channel':
      return { percent: 5, label: 'Reading the channel' };
    case 'listing': {
      const total = p.videos_total;
      const share = total ? Math.min(1, p.videos_listed / total) : 0;
      return {
        percent: Math.round(5 + 45 * share),
        label: total ? `Listing videos: ${n(p.videos_listed)} of ${n(total)}` : `Listing videos: ${n(p.videos_listed)}`,
      };
    }
    case 'plan':
      return { percent: 50, label: 'Planning analytics requests' };
    case 'analytics': {
      const total = p.analytics_batches_total;
      const share = total ? Math.min(1, p.analytics_batches_done / total) : 0;
      return { percent: Math.round(55 + 40 * share), label: `Fetching analytics: ${n(p.analytics_batches_done)} of ${n(total)} batches` };
    }
    case 'score':
      return { percent: 95, label: 'Scoring videos' };
    case 'done':
      return { percent: 100, label: 'Finishing' };
    default:
      return { percent: null, label: p.phase };
  }
}

/** Seconds to wait before "sync now" may be pressed again, from a 429 answer. */
export function retryAfterSeconds(error: Pick<ApiError, 'status' | 'details'>): number | null {
  if (error.status !== 429) return null;
  const d = error.details as { retry_after_seconds?: unknown } | null | undefined;
  const s = d && typeof d.retry_after_seconds === 'number' ? d.retry_after_seconds : null;
  return s !== null && Number.isFinite(s) && s > 0 ? Math.ceil(s) : null;
}

const CONNECT_ERRORS: Record<string, string> = {
  access_denied: 'Connecting was cancelled on Google’s consent page. Nothing was connected.',
  token_exchange_failed: 'Google did not accept the sign-in. Please try connecting again.',
  channel_lookup_failed: 'Signed in, but the YouTube channel could not be read. Please try again.',
  quota_exhausted: 'YouTube’s daily quota is used up. Try connecting again after midnight Pacific time.',
  no_channel: 'That Google account has no YouTube channel. Create one on YouTube, or choose another account.',
  no_refresh_token:
    'Google did not grant offline access. Remove this app under your Google account’s third-party access, then connect again.',
  missing_code: 'Google sent no authorisation code back. Please try again.',
  oauth_error: 'Google reported an error while connecting. Please try again.',
  invalid_state: 'This sign-in link was not issued by this app. Start connecting your channel again.',
  state_used: 'This sign-in link has already been used. Start connecting your channel again.',
  state_expired: 'This sign-in link has expired (links last 10 minutes). Start connecting your channel again.',
  channel_in_other_workspace:
    'That YouTube channel is already connected to another workspace. An owner of that workspace must remove it there before it can be connected here.',
  forbidden: 'You are no longer an editor or owner of the workspace this connection was started for.',
  state_other_user:
    'This sign-in link was started by another account. Only the person who started connecting can finish it; start connecting again while signed in as yourself.',
};

export type ConnectOutcome = { kind: 'connected'; channelId: string; message: string } | { kind: 'error'; code: string; message: string };

function connectedOutcome(channelId: string): ConnectOutcome {
  return { kind: 'connected', channelId, message: 'Channel connected. Its first sync has started; progress shows below.' };
}

function errorOutcome(code: string): ConnectOutcome {
  const safe = /^[a-z_]{1,64}$/.test(code) ? code : 'oauth_error';
  return { kind: 'error', code: safe, message: CONNECT_ERRORS[safe] ?? `Connecting failed (${safe}). Please try again.` };
}

/** The outcome of the OAuth round trip, from the query the callback redirected to. */
export function connectOutcome(params: URLSearchParams): ConnectOutcome | null {
  const connected = params.get('connected');
  if (connected) return connectedOutcome(connected);
  const code = params.get('error');
  return code ? errorOutcome(code) : null;
}

// The workspace's share of today's YouTube quota (a Pacific-time day), from the channels function.
const YoutubeQuota = z.object({
  share_units: z.number(),
  used_units: z.number(),
  remaining_units: z.number(),
  project_remaining_units: z.number(),
  available_units: z.number(),
  borrowing: z.boolean(),
  borrow_from: z.string(),
  resets_at: z.string(),
});
export type YoutubeQuota = z.infer<typeof YoutubeQuota>;
const ChannelList = z.object({ youtube_quota: z.nullable(YoutubeQuota) });

export async function getYoutubeQuota(client: FunctionsInvoker, workspaceId: string): Promise<YoutubeQuota | null> {
  return (await callFunction(client, 'channels', { query: { workspace_id: workspaceId }, schema: ChannelList })).youtube_quota;
}

/** One line for the channels page: what is left of the share, and when that changes. */
export function quotaLine(q: YoutubeQuota, prefs: DisplayPrefs = DEFAULT_PREFS): string {
  const n = (x: number) => formatNumber(x, prefs.locale);
  const left = `YouTube quota today: ${n(q.remaining_units)} of this workspace’s ${n(q.share_units)} units left`;
  if (q.borrowing)
    return `${left}; unused project quota can be borrowed until the reset (${n(q.project_remaining_units)} units left in all).`;
  if (Date.parse(q.borrow_from) < Date.parse(q.resets_at))
    return `${left}; from ${formatDateTime(q.borrow_from, prefs)} unused project quota can be borrowed.`;
  return `${left}; it resets at ${formatDateTime(q.resets_at, prefs)}.`;
}
