// Control routes of the fake YouTube (/_control/youtube/...): make channels, mint and kill
// tokens, set the quota budget. Tests and the local stack's seed scripts use these.
import { z } from 'zod';
import { parseJson } from '../control.ts';
import type { RequestContext } from '../core/context.ts';
import type { Router } from '../core/router.ts';
import { channelIdForSeed, type FakeChannel, type FakeVideo } from './catalog.ts';
import { DEFAULT_GRANTED_SCOPES } from './scopes.ts';
import type { YouTubeState } from './state.ts';
import { DAY_MS, dayNumber, googleTimestamp, parseDayKey } from './time.ts';

const MAX_VIDEOS = 50_000;

// `audience: "typical"` also gives a video the audience of its channel's median video (an upload
// has none in the fake, so its analytics would stay at zero).
const AgeVideo = z.object({ days: z.number().int().min(1).max(3650), audience: z.enum(['none', 'typical']).default('none') }).strict();

const CreateChannel = z
  .object({
    videos: z.number().int().min(0).max(MAX_VIDEOS).default(120),
    seed: z.string().min(1).max(200).optional(),
    title: z.string().min(1).max(100).optional(),
    niche: z.enum(['cooking', 'tech', 'fitness', 'travel']).optional(),
    anchorDate: z
      .string()
      .refine((s) => parseDayKey(s) !== undefined, 'anchorDate must be YYYY-MM-DD')
      .optional(),
    spanDays: z.number().int().min(1).max(3650).default(365),
    // The grant handed back with the channel.
    clientId: z.string().min(1).optional(),
    scopes: z.array(z.string().min(1)).min(1).optional(),
    redirectUri: z.string().url().optional(),
    codeChallenge: z.string().min(43).max(128).optional(),
    codeChallengeMethod: z.enum(['S256', 'plain']).default('S256'),
  })
  .strict();

const Grant = z
  .object({
    channelId: z.string().min(1),
    clientId: z.string().min(1).optional(),
    scopes: z.array(z.string().min(1)).min(1).optional(),
    redirectUri: z.string().url().optional(),
    codeChallenge: z.string().min(43).max(128).optional(),
    codeChallengeMethod: z.enum(['S256', 'plain']).default('S256'),
  })
  .strict();

function summary(state: YouTubeState, c: FakeChannel) {
  return {
    channelId: c.id,
    title: c.title,
    uploadsPlaylistId: c.uploadsPlaylistId,
    videoCount: c.videos.length,
    demo: c.id === state.demoChannelId,
  };
}

/** A refresh token, an access token and an unused authorization code, all bound to the channel. */
function mintGrant(state: YouTubeState, channelId: string, g: Omit<z.infer<typeof Grant>, 'channelId'>) {
  const scopes = g.scopes ?? DEFAULT_GRANTED_SCOPES;
  const clientId = g.clientId ?? null;
  const refresh = state.oauth.issueRefresh({ clientId, channelId, scopes });
  const access = state.oauth.issueAccess({ clientId, channelId, scopes, refreshToken: refresh.token });
  const code = state.oauth.issueCode({
    clientId,
    redirectUri: g.redirectUri ?? null,
    channelId,
    scopes,
    challenge: g.codeChallenge ?? null,
    challengeMethod: g.codeChallengeMethod,
    offline: true,
  });
  return {
    refreshToken: refresh.token,
    accessToken: access.token,
    expiresIn: Math.round((access.expiresAt - state.now()) / 1000),
    authCode: code.code,
    scopes,
  };
}

function giveTypicalAudience(state: YouTubeState, video: FakeVideo) {
  const others = (state.channels.get(video.channelId)?.videos ?? [])
    .filter((v) => v.id !== video.id)
    .sort((a, b) => a.peakViews - b.peakViews);
  const median = others[Math.floor(others.length / 2)];
  if (!median) return;
  Object.assign(video, {
    peakViews: median.peakViews,
    retention: median.retention,
    likeRate: median.likeRate,
    commentRate: median.commentRate,
    shareRate: median.shareRate,
    subscribeRate: median.subscribeRate,
    isShort: median.isShort,
    durationSeconds: median.durationSeconds,
  });
}

const OAuthClients = z
  .object({
    clients: z
      .array(z.object({ clientId: z.string().min(1), clientSecret: z.string().min(1), redirectUris: z.array(z.string().url()) }).strict())
      .nullable(),
  })
  .strict();

// Registered OAuth clients: others are then refused at the consent page and the token endpoint.
function setOAuthClients(state: YouTubeState, ctx: RequestContext) {
  const body = parseJson(ctx, OAuthClients);
  if (!body) return;
  state.oauthClients =
    body.clients === null ? null : new Map(body.clients.map((c) => [c.clientId, { secret: c.clientSecret, redirectUris: c.redirectUris }]));
  ctx.sendJson(200, { restricted: state.oauthClients !== null, clients: state.oauthClients?.size ?? 0 });
}

function createChannel(state: YouTubeState, ctx: RequestContext) {
  const body = parseJson(ctx, CreateChannel);
  if (!body) return;
  const seed = body.seed ?? `random-${crypto.randomUUID()}`;
  const existing = state.channels.get(channelIdForSeed(seed));
  if (existing && existing.videos.length !== body.videos) {
    ctx.sendJson(409, {
      error: `seed "${seed}" already made channel ${existing.id} with ${existing.videos.length} videos; use another seed or reset`,
    });
    return;
  }
  const anchorDay = body.anchorDate !== undefined ? parseDayKey(body.anchorDate)! : state.today();
  const channel =
    existing ??
    state.addChannel({ seed, videoCount: body.videos, anchorDay, spanDays: body.spanDays, title: body.title, niche: body.niche });
  ctx.sendJson(existing ? 200 : 201, { ...summary(state, channel), seed, ...mintGrant(state, channel.id, body) });
}

// The catalogue as tests need it to pick ids and expected values (newest first).
function listChannelVideos(state: YouTubeState, ctx: RequestContext) {
  const channel = state.channels.get(ctx.params.id!);
  if (!channel) return ctx.sendJson(404, { error: `no channel ${ctx.params.id}` });
  ctx.sendJson(200, {
    videos: channel.videos.map((v) => ({
      id: v.id,
      title: v.title,
      publishedAt: googleTimestamp(v.publishedAt),
      durationSeconds: v.durationSeconds,
      isShort: v.isShort,
      privacyStatus: v.privacyStatus,
    })),
  });
}

// Time passing for one video: it was published `days` days ago at 17:00 UTC (the same calendar
// day in UTC, whose days the fake reports, and in Pacific time, whose days YouTube reports), so
// its analytics cover those days. The demo ages its upload with it so that its 24-hour, 7-day
// and 28-day outcomes exist on first run.
function ageVideo(state: YouTubeState, ctx: RequestContext) {
  const body = parseJson(ctx, AgeVideo);
  if (!body) return;
  const video = state.videos.get(ctx.params.id!);
  if (!video) return ctx.sendJson(404, { error: `no video ${ctx.params.id}` });
  video.publishedAt = (dayNumber(state.now()) - body.days) * DAY_MS + 17 * 3_600_000;
  if (body.audience === 'typical') giveTypicalAudience(state, video);
  state.videoChanged(video);
  state.channels.get(video.channelId)?.videos.sort((a, b) => b.publishedAt - a.publishedAt || a.id.localeCompare(b.id));
  ctx.sendJson(200, { id: video.id, publishedAt: googleTimestamp(video.publishedAt) });
}

function registerTokenControl(router: Router, state: YouTubeState) {
  router.post('/_control/youtube/tokens', (ctx) => {
    const body = parseJson(ctx, Grant);
    if (!body) return;
    if (!state.channels.has(body.channelId)) return ctx.sendJson(404, { error: `no channel ${body.channelId}` });
    ctx.sendJson(201, { channelId: body.channelId, ...mintGrant(state, body.channelId, body) });
  });

  router.post('/_control/youtube/tokens/revoke', (ctx) => {
    const body = parseJson(ctx, z.object({ refresh_token: z.string().min(1) }).strict());
    if (!body) return;
    if (!state.oauth.findRefresh(body.refresh_token)) return ctx.sendJson(404, { error: 'unknown refresh token' });
    state.oauth.revoke(body.refresh_token);
    ctx.sendJson(200, { revoked: true });
  });

  router.post('/_control/youtube/tokens/expire-access', (ctx) => {
    const body = parseJson(ctx, z.object({ access_token: z.string().min(1).optional() }).strict());
    if (!body) return;
    ctx.sendJson(200, { expired: state.oauth.expireAccess(body.access_token) });
  });
}

export function registerYouTubeControl(router: Router, state: YouTubeState) {
  router.post('/_control/youtube/oauth-clients', (ctx) => setOAuthClients(state, ctx));
  router.post('/_control/youtube/channels', (ctx) => createChannel(state, ctx));
  router.get('/_control/youtube/channels', (ctx) => {
    ctx.sendJson(200, { channels: [...state.channels.values()].map((c) => summary(state, c)) });
  });
  router.get('/_control/youtube/channels/:id/videos', (ctx) => listChannelVideos(state, ctx));
  router.post('/_control/youtube/videos/:id/age', (ctx) => ageVideo(state, ctx));
  registerTokenControl(router, state);

  router.get('/_control/youtube/quota', (ctx) => ctx.sendJson(200, state.quota.status()));
  router.post('/_control/youtube/quota', (ctx) => {
    const body = parseJson(ctx, z.object({ dailyLimit: z.number().int().min(0).optional(), resetUsage: z.boolean().optional() }).strict());
    if (!body) return;
    if (body.dailyLimit !== undefined) state.quota.dailyLimit = body.dailyLimit;
    if (body.resetUsage) state.quota.resetUsage();
    ctx.sendJson(200, state.quota.status());
  });
}
