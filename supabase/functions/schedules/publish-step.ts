// The last transition of the engine (engine.ts has the table): the video exists → thumbnail →
// published, or (YouTube publishes it itself at publishAt) looked at again just after publish_at
// and confirmed with videos.list.
import { createYouTubeClient } from '../_shared/integrations/youtube/client.ts';
import { YouTubeApiError } from '../_shared/integrations/youtube/errors.ts';
import { errorFields } from '../_shared/integrations/youtube/event-log.ts';
import { reserveQuota } from '../_shared/integrations/youtube/quota-store.ts';
import { describe, done, fail, outcome, release, type RunContext, type Step, type StepOf } from './context.ts';
import { retryDelaySeconds } from './plan.ts';
import * as store from './store.ts';
import type { ThumbnailStatus } from './store.ts';
import { fetchThumbnail, thumbnailProblem, ThumbnailUnusableError } from './thumbnail.ts';
import { usableTargets } from './upload-steps.ts';

const THUMBNAIL_TRIES = 3;
/** How long after publish_at a video YouTube should have published may still show private. */
const PUBLISH_CONFIRM_WINDOW_MS = 60 * 60_000;

function publishedDetails(ctx: RunContext) {
  const row = ctx.row;
  const late = Date.now() - row.publish_at.getTime();
  return {
    youtube_video_id: row.youtube_video_id,
    publish_at: row.publish_at,
    late_by_seconds: late > 0 ? Math.round(late / 1000) : 0,
    missed: row.missed_at !== null,
  };
}

/** processing: thumbnail, then published (final privacy), or awaiting / confirming YouTube's publishAt. */
export async function finishProcessing(ctx: RunContext, step: StepOf<'finish'>): Promise<Step> {
  const row = ctx.row;
  let thumbnail: ThumbnailStatus | undefined;
  if (row.thumbnail_url && ['none', 'pending'].includes(row.thumbnail_status)) {
    const set = await trySetThumbnail(ctx);
    if ('to' in set) return set;
    thumbnail = set.status;
    if (set.status === 'failed') return noted(await publishOrAwait(ctx, step, thumbnail), `thumbnail given up: ${set.problem}`);
    if (set.status === 'pending') {
      const delay = retryDelaySeconds(row.failures + 1);
      await release(ctx, 'processing', {
        to: 'processing',
        at: new Date(Date.now() + delay * 1000),
        reason: 'retry',
        error: 'the thumbnail could not be set yet; trying again',
        failure: 'count',
        thumbnail,
      });
      return done(outcome(ctx, 'retry', 'processing', `thumbnail pending: ${set.problem}`, step.bytesSent));
    }
  }
  return await publishOrAwait(ctx, step, thumbnail);
}

/** The outcome with a note for the worker's log line (step-log.ts). */
function noted(step: Step, note: string): Step {
  return step.to === 'done' ? done({ ...step.outcome, note }) : step;
}

/** published (final privacy), or awaiting / confirming YouTube's publishAt. */
async function publishOrAwait(ctx: RunContext, step: StepOf<'finish'>, thumbnail: ThumbnailStatus | undefined): Promise<Step> {
  const row = ctx.row;
  const sent = row.sent_metadata;
  if (!sent?.status.publishAt) {
    // Uploaded with its final privacy: it is out now.
    await release(ctx, 'processing', {
      to: 'published',
      publishedAt: new Date(),
      thumbnail,
      event: { event: 'published', details: publishedDetails(ctx) },
    });
    return done(outcome(ctx, 'published', 'published', undefined, step.bytesSent));
  }
  const at = row.publish_at.getTime();
  if (step.justUploaded || Date.now() < at) {
    // YouTube publishes it at publishAt; look again just after.
    await release(ctx, 'processing', {
      to: 'processing',
      at: new Date(Math.max(at, Date.now()) + 5_000),
      reason: null,
      error: null,
      failure: 'reset',
      thumbnail,
      event: step.justUploaded
        ? { event: 'awaiting_publish', details: { publish_at: sent.status.publishAt, youtube_video_id: row.youtube_video_id } }
        : undefined,
    });
    return done(outcome(ctx, 'processing', 'processing', `YouTube publishes it at ${sent.status.publishAt}`, step.bytesSent));
  }
  return await confirmPublished(ctx, thumbnail);
}

/** Past publish_at: does YouTube show the video public? */
async function confirmPublished(ctx: RunContext, thumbnail: ThumbnailStatus | undefined): Promise<Step> {
  const row = ctx.row;
  const publishAt = row.sent_metadata!.status.publishAt;
  const targets = await usableTargets(ctx);
  if ('to' in targets) return targets;
  const { channel } = targets;
  const client = createYouTubeClient({
    tokens: ctx.clients.tokensFor(channel),
    quota: reserveQuota(channel.workspace_id, channel.id),
    retry: ctx.opts.retry,
  });
  const [video] = await client.data.videos([row.youtube_video_id!]);
  if (!video) return await fail(ctx, 'processing', `video ${row.youtube_video_id} is no longer on YouTube`);
  if (video.privacyStatus === 'public') {
    await release(ctx, 'processing', {
      to: 'published',
      publishedAt: video.publishedAt ? new Date(video.publishedAt) : new Date(),
      thumbnail,
      event: {
        event: 'published',
        details: { ...publishedDetails(ctx), confirmed_by: 'videos.list', youtube_published_at: video.publishedAt },
      },
    });
    return done(outcome(ctx, 'published', 'published'));
  }
  if (Date.now() - row.publish_at.getTime() < PUBLISH_CONFIRM_WINDOW_MS) {
    await release(ctx, 'processing', {
      to: 'processing',
      at: new Date(Date.now() + 60_000),
      reason: null,
      error: `YouTube still shows the video as ${video.privacyStatus}`,
      failure: 'keep',
      thumbnail,
    });
    return done(outcome(ctx, 'processing', 'processing', `still ${video.privacyStatus} on YouTube`));
  }
  return await fail(ctx, 'processing', `YouTube did not publish the video at ${publishAt}: it is still ${video.privacyStatus}`, {
    youtube_video_id: row.youtube_video_id,
  });
}

type ThumbnailTry = { status: 'set' } | { status: 'pending' | 'failed'; problem: string };

/**
 * 'set', 'pending' (try again later) or 'failed' (given up, with an alert), with what went wrong
 * for operators; a step when the channel is unusable.
 */
async function trySetThumbnail(ctx: RunContext): Promise<ThumbnailTry | Step> {
  const row = ctx.row;
  const targets = await usableTargets(ctx);
  if ('to' in targets) return targets;
  try {
    const image = await fetchThumbnail(row.thumbnail_url!);
    await ctx.clients.uploader(targets.channel).setThumbnail(row.youtube_video_id!, image.bytes, image.contentType);
    await store.note(row, ctx.opts.workerId, { event: 'thumbnail_set', details: { bytes: image.bytes.byteLength } });
    return { status: 'set' };
  } catch (err) {
    // The video is out (or scheduled) either way: a thumbnail that keeps failing is given up
    // after a few tries, with an alert, rather than holding the schedule back.
    const permanent = err instanceof ThumbnailUnusableError || (err instanceof YouTubeApiError && err.status !== 401);
    if (!permanent && row.failures + 1 < THUMBNAIL_TRIES) return { status: 'pending', problem: thumbnailProblem(err) };
    await store.note(row, ctx.opts.workerId, { event: 'thumbnail_failed', details: errorFields(err) });
    await store.alert('upload_thumbnail_failed', 'warning', `the thumbnail of a scheduled upload could not be set: ${describe(err)}`, {
      schedule_id: row.id,
      workspace_id: row.workspace_id,
      youtube_video_id: row.youtube_video_id,
    });
    return { status: 'failed', problem: thumbnailProblem(err) };
  }
}
