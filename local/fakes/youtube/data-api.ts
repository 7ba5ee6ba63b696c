// YouTube Data API v3 reads: channels.list, playlistItems.list, videos.list.
// Real: https://www.googleapis.com/youtube/v3/<resource>; here: /youtube/youtube/v3/<resource>.
import type { RequestContext } from '../core/context.ts';
import { hashString } from '../core/random.ts';
import type { Router } from '../core/router.ts';
import { authenticate, type Caller } from './auth.ts';
import type { FakeChannel, FakeVideo } from './catalog.ts';
import { invalidParameter, notImplemented, quotaExceeded, requiredParameter, sendGoogleError } from './errors.ts';
import { channelResource, listResponse, playlistItemResource, videoResource } from './resources.ts';
import { READ_SCOPES } from './scopes.ts';
import type { YouTubeState } from './state.ts';

const API = '/youtube/youtube/v3';

export function registerDataApi(router: Router, state: YouTubeState) {
  router.get(`${API}/channels`, (ctx) => channelsList(ctx, state));
  router.get(`${API}/playlistItems`, (ctx) => playlistItemsList(ctx, state));
  router.get(`${API}/videos`, (ctx) => videosList(ctx, state));
}

/** Authenticates and charges quota (every call costs, even one that then fails validation). */
function begin(ctx: RequestContext, state: YouTubeState, method: string): Caller | undefined {
  state.publishDueVideos();
  const caller = authenticate(ctx, state, { keyAllowed: true, scopes: READ_SCOPES });
  if (!caller) return undefined;
  if (!state.quota.charge(caller.project, method)) {
    quotaExceeded(ctx);
    return undefined;
  }
  return caller;
}

function parseParts(ctx: RequestContext, known: readonly string[], implemented: readonly string[]): Set<string> | undefined {
  const raw = ctx.query.get('part');
  if (!raw) {
    requiredParameter(ctx, 'part');
    return undefined;
  }
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  for (const p of parts) {
    if (!known.includes(p)) {
      invalidParameter(ctx, 'part', `'${p}'`, 'unknownPart', 'youtube.part');
      return undefined;
    }
    if (!implemented.includes(p)) {
      notImplemented(ctx, `part=${p}`);
      return undefined;
    }
  }
  return new Set(parts);
}

function parseMaxResults(ctx: RequestContext, fallback: number): number | undefined {
  const raw = ctx.query.get('maxResults');
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 50) {
    invalidParameter(ctx, 'maxResults', `Invalid value '${raw}'. Values must be within the range: [0, 50]`);
    return undefined;
  }
  return n;
}

/** Exactly one of the filters must be given; answers the error itself otherwise. */
function singleFilter(ctx: RequestContext, filters: readonly string[]): string | undefined {
  const given = filters.filter((f) => ctx.query.has(f));
  if (given.length === 0) {
    invalidParameter(
      ctx,
      'parameters',
      `No filter selected. Expected one of: ${filters.join(', ')}`,
      'missingRequiredParameter',
      'youtube.parameter',
    );
    return undefined;
  }
  if (given.length > 1) {
    invalidParameter(
      ctx,
      'parameters',
      `Incompatible parameters specified in the request: ${given.join(', ')}`,
      'incompatibleParameters',
      'youtube.parameter',
    );
    return undefined;
  }
  return given[0];
}

function loginRequired(ctx: RequestContext) {
  sendGoogleError(ctx, 401, 'Login Required.', {
    reason: 'required',
    location: 'Authorization',
    locationType: 'header',
    status: 'UNAUTHENTICATED',
  });
}

function idList(raw: string): string[] {
  return [
    ...new Set(
      raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    ),
  ];
}

const CHANNEL_PARTS = [
  'id',
  'snippet',
  'contentDetails',
  'statistics',
  'status',
  'brandingSettings',
  'topicDetails',
  'localizations',
  'contentOwnerDetails',
  'auditDetails',
];
const CHANNEL_PARTS_DONE = ['id', 'snippet', 'contentDetails', 'statistics', 'status'];

function channelsList(ctx: RequestContext, state: YouTubeState) {
  const caller = begin(ctx, state, 'channels.list');
  if (!caller) return;
  const parts = parseParts(ctx, CHANNEL_PARTS, CHANNEL_PARTS_DONE);
  if (!parts) return;
  const maxResults = parseMaxResults(ctx, 5);
  if (maxResults === undefined) return;
  const filter = singleFilter(ctx, ['forUsername', 'managedByMe', 'categoryId', 'mine', 'mySubscribers', 'id', 'forHandle']);
  if (!filter) return;

  let channels: FakeChannel[];
  if (filter === 'mine') {
    if (caller.kind !== 'oauth') return loginRequired(ctx);
    const own = state.channels.get(caller.channelId);
    channels = ctx.query.get('mine') === 'true' && own ? [own] : [];
  } else if (filter === 'id') {
    channels = idList(ctx.query.get('id')!).flatMap((id) => state.channels.get(id) ?? []);
  } else if (filter === 'forHandle') {
    const handle = ctx.query.get('forHandle')!.replace(/^@/, '').toLowerCase();
    channels = [...state.channels.values()].filter((c) => c.customUrl.slice(1) === handle);
  } else {
    return notImplemented(ctx, `channels.list with ${filter}`);
  }
  const items = channels.map((c) => channelResource(c, state.channelStatistics(c), parts));
  ctx.sendJson(200, listResponse('youtube#channelListResponse', items, { totalResults: items.length, resultsPerPage: maxResults }));
}

// Page tokens are opaque to clients; ours carry the offset and a fingerprint of the playlist so a
// token from one playlist cannot be replayed on another.
function pageToken(playlistId: string, offset: number): string {
  return 'EAAa' + Buffer.from(`PT:${offset}:${hashString(playlistId).toString(36)}`).toString('base64url');
}

function parsePageToken(token: string, playlistId: string): number | undefined {
  if (!token.startsWith('EAAa')) return undefined;
  const m = /^PT:(\d+):([0-9a-z]+)$/.exec(Buffer.from(token.slice(4), 'base64url').toString('utf8'));
  if (!m || m[2] !== hashString(playlistId).toString(36)) return undefined;
  return Number(m[1]);
}

function playlistItemsList(ctx: RequestContext, state: YouTubeState) {
  const caller = begin(ctx, state, 'playlistItems.list');
  if (!caller) return;
  const parts = parseParts(ctx, ['id', 'snippet', 'contentDetails', 'status'], ['id', 'snippet', 'contentDetails', 'status']);
  if (!parts) return;
  const maxResults = parseMaxResults(ctx, 5);
  if (maxResults === undefined) return;
  const filter = singleFilter(ctx, ['id', 'playlistId']);
  if (!filter) return;
  if (filter === 'id') return notImplemented(ctx, 'playlistItems.list with id');

  const playlistId = ctx.query.get('playlistId')!;
  const channel = state.playlists.get(playlistId);
  if (!channel) {
    sendGoogleError(ctx, 404, "The playlist identified with the request's <code>playlistId</code> parameter cannot be found.", {
      reason: 'playlistNotFound',
      domain: 'youtube.playlistItem',
      location: 'playlistId',
      locationType: 'parameter',
    });
    return;
  }
  // The owner sees every upload; everyone else only public ones.
  const visible = caller.channelId === channel.id ? channel.videos : channel.videos.filter((v) => v.privacyStatus === 'public');

  let offset = 0;
  const token = ctx.query.get('pageToken');
  if (token) {
    const parsed = parsePageToken(token, playlistId);
    if (parsed === undefined || parsed > visible.length) {
      invalidParameter(ctx, 'pageToken', 'The request specifies an invalid page token.', 'invalidPageToken', 'youtube.parameter');
      return;
    }
    offset = parsed;
  }
  const page = visible.slice(offset, offset + maxResults);
  const items = page.map((v, i) => playlistItemResource(v, channel, offset + i, parts));
  const tokens = {
    nextPageToken: maxResults > 0 && offset + maxResults < visible.length ? pageToken(playlistId, offset + maxResults) : undefined,
    prevPageToken: offset > 0 ? pageToken(playlistId, Math.max(0, offset - maxResults)) : undefined,
  };
  ctx.sendJson(
    200,
    listResponse('youtube#playlistItemListResponse', items, { totalResults: visible.length, resultsPerPage: maxResults }, tokens),
  );
}

const VIDEO_PARTS = [
  'id',
  'snippet',
  'contentDetails',
  'statistics',
  'status',
  'player',
  'topicDetails',
  'recordingDetails',
  'fileDetails',
  'processingDetails',
  'suggestions',
  'liveStreamingDetails',
  'localizations',
  'paidProductPlacementDetails',
];
const VIDEO_PARTS_DONE = ['id', 'snippet', 'contentDetails', 'statistics', 'status'];
const MAX_VIDEO_IDS = 50;

function videosList(ctx: RequestContext, state: YouTubeState) {
  const caller = begin(ctx, state, 'videos.list');
  if (!caller) return;
  const parts = parseParts(ctx, VIDEO_PARTS, VIDEO_PARTS_DONE);
  if (!parts) return;
  const filter = singleFilter(ctx, ['myRating', 'chart', 'id']);
  if (!filter) return;
  if (filter !== 'id') return notImplemented(ctx, `videos.list with ${filter}`);

  const ids = idList(ctx.query.get('id')!);
  if (ids.length > MAX_VIDEO_IDS) {
    // Google documents a maximum of 50 ids per call; the exact reason string of the error is
    // our assumption.
    invalidParameter(
      ctx,
      'id',
      `The request specifies ${ids.length} video IDs; at most ${MAX_VIDEO_IDS} are allowed.`,
      'invalidParameter',
      'youtube.parameter',
    );
    return;
  }
  // Unknown ids are silently left out, as YouTube does; private videos only show to their owner.
  const videos = ids
    .map((id) => state.videos.get(id))
    .filter((v): v is FakeVideo => v !== undefined && (v.privacyStatus !== 'private' || v.channelId === caller.channelId));
  const items = videos.map((v) => videoResource(v, state.channels.get(v.channelId)!, state.videoLifetime(v), parts));
  ctx.sendJson(200, listResponse('youtube#videoListResponse', items, { totalResults: items.length, resultsPerPage: items.length }));
}
