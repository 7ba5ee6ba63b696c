// One claimed schedule, taken as far as it can go now:
//   scheduled   check channel and render → upload plan → quota → session → begin_upload (the
//               session URI saved before any byte) → stream → video recorded
//   uploading   a worker died or yielded: ask the saved session where it stands → record the
//               video it already made, or resume from the offset YouTube confirms
//   processing  the video exists: thumbnail; a video YouTube publishes itself (publishAt) is
//               checked once publish_at has passed → published
// Waits (quota, upload limit, reconnect) keep the row in the queue with the reason shown and an
// alert logged; transient failures retry with backoff; permanent ones fail the schedule.
import {
  QuotaExhaustedError,
  ReauthRequiredError,
  type RetryPolicy,
  YouTubeApiError,
  YouTubeTransientError,
  createYouTubeClient,
} from '../_shared/clients/youtube.ts';
import { UploadLimitError, UploadSessionGoneError, type UploadedVideo, YouTubeUploader } from '../_shared/clients/youtube/upload.ts';
import { ChannelTokenSource } from '../_shared/youtube/credentials.ts';
import { errorFields, logEvent } from '../_shared/youtube/log.ts';
import { reserveQuota } from '../_shared/youtube/quota.ts';
import { SourceChangedError, SourceUnavailableError, VideoSource } from '../_shared/youtube/video-source.ts';
import { fetchThumbnail, ThumbnailUnusableError } from './thumbnail.ts';
import {
  googleTime,
  MAX_FAILURES,
  REAUTH_RECHECK_MS,
  retryDelaySeconds,
  type SentMetadata,
  uploadedAsAsked,
  uploadPlan,
  videoResource,
} from './plan.ts';
import * as store from './store.ts';
import { LeaseLostError, type ScheduleRow, type ThumbnailStatus } from './store.ts';
import { type UploadHooks, type UploadRunResult, runUpload, UploadStalledError } from './upload-run.ts';

export interface EngineOptions {
  workerId: string;
  leaseSeconds: number;
  /** Epoch ms after which running uploads stop at a chunk boundary (the next worker resumes). */
  deadline: number;
  chunkBytes: number;
  retry?: RetryPolicy;
  hooks?: UploadHooks;
}

export interface ScheduleOutcome {
  schedule_id: string;
  /** what this worker did with it */
  result: 'published' | 'processing' | 'waiting' | 'retry' | 'deferred' | 'failed' | 'canceled' | 'yielded' | 'lease_lost';
  status: string;
  message?: string;
  bytes_sent?: number;
}

const THUMBNAIL_TRIES = 3;
/** How long after publish_at a video YouTube should have published may still show private. */
const PUBLISH_CONFIRM_WINDOW_MS = 60 * 60_000;

/** Per worker invocation: one token source per channel, so a channel's token is refreshed once. */
export class ChannelClients {
  private readonly tokens = new Map<string, ChannelTokenSource>();
  constructor(private readonly retry?: RetryPolicy) {}

  tokensFor(channel: { id: string; workspace_id: string }): ChannelTokenSource {
    let t = this.tokens.get(channel.id);
    if (!t) {
      t = new ChannelTokenSource({ id: channel.id, workspaceId: channel.workspace_id }, { retry: this.retry });
      this.tokens.set(channel.id, t);
    }
    return t;
  }

  uploader(channel: { id: string; workspace_id: string }): YouTubeUploader {
    return new YouTubeUploader({ tokens: this.tokensFor(channel), quota: reserveQuota(channel.workspace_id, channel.id), retry: this.retry });
  }
}

class Finished extends Error {
  constructor(readonly outcome: ScheduleOutcome) {
    super(outcome.result);
  }
}

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));

export async function processSchedule(claimed: ScheduleRow, opts: EngineOptions, clients: ChannelClients): Promise<ScheduleOutcome> {
  let row = claimed;
  const outcome = (result: ScheduleOutcome['result'], status: string, message?: string, bytes?: number): ScheduleOutcome => ({
    schedule_id: row.id,
    result,
    status,
    ...(message ? { message } : {}),
    ...(bytes !== undefined ? { bytes_sent: bytes } : {}),
  });
  const release = async (from: store.ScheduleStatus, r: store.Release) => await store.release(row, opts.workerId, from, r);
  const fail = async (from: store.ScheduleStatus, message: string, details: Record<string, unknown> = {}): Promise<ScheduleOutcome> => {
    await release(from, { to: 'failed', error: message, event: { event: 'failed', details: { reason: message, ...details } } });
    await store.alert('upload_failed', 'error', `an upload schedule failed: ${message}`, { schedule_id: row.id, workspace_id: row.workspace_id, ...details });
    logEvent('warn', 'upload_schedule_failed', { schedule_id: row.id, message });
    return outcome('failed', 'failed', message);
  };
  const wait = async (
    from: store.ScheduleStatus,
    reason: store.WaitingReason,
    until: Date,
    message: string,
    alertType: string,
  ): Promise<ScheduleOutcome> => {
    await release(from, { to: from as 'scheduled' | 'uploading' | 'processing', at: until, reason, error: message, failure: 'keep', event: { event: 'waiting', details: { reason, until, message } } });
    await store.alert(alertType, 'warning', message, { schedule_id: row.id, workspace_id: row.workspace_id, channel_id: row.channel_id, until });
    return outcome('waiting', from, message);
  };

  try {
    switch (row.status) {
      case 'scheduled':
        return await startUpload();
      case 'uploading':
        return await resumeUpload();
      case 'processing':
        return await finishProcessing();
      default:
        return outcome('lease_lost', row.status, `nothing to do in status ${row.status}`);
    }
  } catch (err) {
    if (err instanceof Finished) return err.outcome;
    return await handleFailure(err);
  }

  async function targets() {
    const t = await store.loadTargets(row);
    if (!t.channel) throw new Finished(await fail(row.status, 'the YouTube channel was removed from this workspace'));
    if (t.channel.status !== 'active') {
      throw new Finished(await wait(row.status, 'reauth_required', new Date(Date.now() + REAUTH_RECHECK_MS),
        `the YouTube channel needs to be reconnected (it is ${t.channel.status}); the upload waits for that`, 'upload_waiting_reauth'));
    }
    return { channel: t.channel, job: t.job };
  }

  async function startUpload(depth = 0): Promise<ScheduleOutcome> {
    const { channel, job } = await targets();
    if (!job) return await fail(row.status, 'the render of this schedule was deleted');
    if (job.status !== 'ready' || !job.video_url) return await fail(row.status, `the render is ${job.status}, not ready`);
    const plan = uploadPlan(row, Date.now());
    if (plan.kind === 'wait') {
      await release(row.status, { to: row.status as 'scheduled', at: plan.until, reason: null, error: null, failure: 'keep' });
      return outcome('deferred', row.status, `uploads at ${plan.until.toISOString()}`);
    }
    const resource = videoResource(row, plan);
    const sent: SentMetadata = { ...resource, notifySubscribers: row.notify_subscribers };
    const source = new VideoSource(job.video_url, { retry: opts.retry ? { ...opts.retry, timeoutMs: 30_000 } : undefined });
    try {
      const opened = await source.open(0);
      const uploader = clients.uploader(channel);
      const sessionUri = await uploader.startSession({ metadata: resource, totalBytes: opened.totalBytes, contentType: opened.contentType, notifySubscribers: row.notify_subscribers });
      const begun = await store.beginUpload(row, opts.workerId, sessionUri, opened.totalBytes, sent, opts.leaseSeconds);
      if (begun === 'changed' && depth < 3) {
        // Edited after this worker read it: that session never gets a byte; make one for the edit.
        await source.close();
        const fresh = await store.reread(row.id);
        if (!fresh || fresh.lease_owner !== opts.workerId || fresh.status !== 'scheduled') return outcome('lease_lost', fresh?.status ?? 'gone');
        row = fresh;
        return await startUpload(depth + 1);
      }
      if (begun === 'canceled') return outcome('canceled', 'canceled', 'canceled before the upload started');
      if (begun !== 'started') return outcome('lease_lost', row.status, `could not start the upload: ${begun}`);
      row = { ...row, status: 'uploading', upload_offset: 0, final_chunk_at: null, sent_metadata: sent };
      logEvent('info', 'upload_started', { schedule_id: row.id, bytes: opened.totalBytes, plan: plan.kind });
      const result = await stream(uploader, sessionUri, opened.totalBytes, 0, source);
      return await afterRun(result, sent);
    } finally {
      await source.close();
    }
  }

  async function resumeUpload(): Promise<ScheduleOutcome> {
    const { channel, job } = await targets();
    const session = await store.uploadSession(row.id);
    const uploader = clients.uploader(channel);
    let state;
    try {
      if (!session) throw new UploadSessionGoneError(404);
      state = await uploader.queryStatus(session.uri, session.total);
    } catch (err) {
      if (!(err instanceof UploadSessionGoneError)) throw err;
      if (row.final_chunk_at) {
        // The last chunk went out, so YouTube may have made the video: a new session could make
        // a second one. A person has to look.
        return await fail('uploading', 'the upload session expired after its last chunk was sent, so YouTube may already have the video; check YouTube Studio before scheduling it again');
      }
      await store.note(row, opts.workerId, { event: 'session_lost', details: { upload_offset: row.upload_offset } });
      return await startUpload();
    }
    const sent = row.sent_metadata!;
    if (state.kind === 'complete') {
      await opts.hooks?.afterAnswer?.({ sent: false, final: true, state, total: session!.total });
      return await afterRun({ kind: 'complete', video: state.video, learntFrom: 'status_query', bytesSent: 0 }, sent);
    }
    if (!job?.video_url) return await fail('uploading', 'the render of this schedule was deleted during its upload');
    await store.note({ ...row, status: 'uploading' }, opts.workerId, {
      event: 'upload_resumed',
      details: { from_offset: state.confirmed, saved_offset: row.upload_offset, total_bytes: session!.total, attempt: row.attempts },
    });
    if (state.confirmed !== row.upload_offset) {
      const step = await store.saveOffset(row.id, opts.workerId, state.confirmed, opts.leaseSeconds);
      if (step !== 'ok') return await stopped({ kind: step, offset: state.confirmed, bytesSent: 0 });
    }
    const source = new VideoSource(job.video_url, { expectedTotal: session!.total });
    try {
      await source.open(state.confirmed);
      const result = await stream(uploader, session!.uri, session!.total, state.confirmed, source);
      return await afterRun(result, sent);
    } finally {
      await source.close();
    }
  }

  function stream(uploader: YouTubeUploader, uri: string, total: number, from: number, source: VideoSource): Promise<UploadRunResult> {
    return runUpload(uri, total, from, {
      uploader,
      source,
      deadline: opts.deadline,
      chunkBytes: opts.chunkBytes,
      hooks: opts.hooks,
      progress: {
        saveOffset: (offset) => store.saveOffset(row.id, opts.workerId, offset, opts.leaseSeconds),
        beginFinalChunk: () => store.beginFinalChunk(row.id, opts.workerId),
      },
    });
  }

  async function stopped(result: Exclude<UploadRunResult, { kind: 'complete' }>): Promise<ScheduleOutcome> {
    switch (result.kind) {
      case 'canceled':
        await store.letGo(row, opts.workerId, result.offset);
        return outcome('canceled', 'canceled', `canceled during the upload at byte ${result.offset}`, result.bytesSent);
      case 'lease_lost':
        return outcome('lease_lost', 'uploading', 'another worker took the upload over', result.bytesSent);
      case 'yielded':
        await release('uploading', {
          to: 'uploading', at: new Date(), reason: null, error: null, failure: 'reset',
          event: { event: 'upload_paused', details: { upload_offset: result.offset, reason: 'time budget used up; the next worker resumes' } },
        });
        return outcome('yielded', 'uploading', `paused at byte ${result.offset}`, result.bytesSent);
    }
  }

  async function afterRun(result: UploadRunResult, sent: SentMetadata): Promise<ScheduleOutcome> {
    if (result.kind !== 'complete') return await stopped(result);
    await store.recordVideo(row.id, opts.workerId, result.video, result.learntFrom);
    row = { ...row, status: 'processing', youtube_video_id: result.video.id, sent_metadata: sent };
    logEvent('info', 'upload_completed', { schedule_id: row.id, youtube_video_id: result.video.id, learnt_from: result.learntFrom });
    const problem = uploadedAsAsked(sent, result.video);
    if (problem) return await fail('processing', problem, { youtube_video_id: result.video.id });
    return await finishProcessing(result.video, result.bytesSent);
  }

  async function finishProcessing(justUploaded?: UploadedVideo, bytesSent?: number): Promise<ScheduleOutcome> {
    let thumbnail: ThumbnailStatus | undefined;
    if (row.thumbnail_url && ['none', 'pending'].includes(row.thumbnail_status)) {
      thumbnail = await trySetThumbnail();
      if (thumbnail === 'pending') {
        const delay = retryDelaySeconds(row.failures + 1);
        await release('processing', { to: 'processing', at: new Date(Date.now() + delay * 1000), reason: 'retry', error: 'the thumbnail could not be set yet; trying again', failure: 'count', thumbnail });
        return outcome('retry', 'processing', 'thumbnail pending', bytesSent);
      }
    }
    const sent = row.sent_metadata;
    if (!sent?.status.publishAt) {
      // Uploaded with its final privacy: it is out now.
      await release('processing', { to: 'published', publishedAt: new Date(), thumbnail, event: { event: 'published', details: publishedDetails() } });
      return outcome('published', 'published', undefined, bytesSent);
    }
    const at = row.publish_at.getTime();
    if (justUploaded || Date.now() < at) {
      // YouTube publishes it at publishAt; look again just after.
      await release('processing', {
        to: 'processing', at: new Date(Math.max(at, Date.now()) + 5_000), reason: null, error: null, failure: 'reset', thumbnail,
        event: justUploaded ? { event: 'awaiting_publish', details: { publish_at: sent.status.publishAt, youtube_video_id: row.youtube_video_id } } : undefined,
      });
      return outcome('processing', 'processing', `YouTube publishes it at ${sent.status.publishAt}`, bytesSent);
    }
    const channel = (await targets()).channel;
    const client = createYouTubeClient({ tokens: clients.tokensFor(channel), quota: reserveQuota(channel.workspace_id, channel.id), retry: opts.retry });
    const [video] = await client.data.videos([row.youtube_video_id!]);
    if (!video) return await fail('processing', `video ${row.youtube_video_id} is no longer on YouTube`);
    if (video.privacyStatus === 'public') {
      await release('processing', {
        to: 'published', publishedAt: video.publishedAt ? new Date(video.publishedAt) : new Date(), thumbnail,
        event: { event: 'published', details: { ...publishedDetails(), confirmed_by: 'videos.list', youtube_published_at: video.publishedAt } },
      });
      return outcome('published', 'published');
    }
    if (Date.now() - at < PUBLISH_CONFIRM_WINDOW_MS) {
      await release('processing', { to: 'processing', at: new Date(Date.now() + 60_000), reason: null, error: `YouTube still shows the video as ${video.privacyStatus}`, failure: 'keep', thumbnail });
      return outcome('processing', 'processing', `still ${video.privacyStatus} on YouTube`);
    }
    return await fail('processing', `YouTube did not publish the video at ${sent.status.publishAt}: it is still ${video.privacyStatus}`, { youtube_video_id: row.youtube_video_id });
  }

  function publishedDetails() {
    const late = Date.now() - row.publish_at.getTime();
    return { youtube_video_id: row.youtube_video_id, publish_at: row.publish_at, late_by_seconds: late > 0 ? Math.round(late / 1000) : 0, missed: row.missed_at !== null };
  }

  async function trySetThumbnail(): Promise<ThumbnailStatus> {
    const channel = (await targets()).channel;
    try {
      const image = await fetchThumbnail(row.thumbnail_url!);
      await clients.uploader(channel).setThumbnail(row.youtube_video_id!, image.bytes, image.contentType);
      await store.note(row, opts.workerId, { event: 'thumbnail_set', details: { bytes: image.bytes.byteLength } });
      return 'set';
    } catch (err) {
      // The video is out (or scheduled) either way: a thumbnail that keeps failing is given up
      // after a few tries, with an alert, rather than holding the schedule back.
      const permanent = err instanceof ThumbnailUnusableError || (err instanceof YouTubeApiError && err.status !== 401);
      if (!permanent && row.failures + 1 < THUMBNAIL_TRIES) return 'pending';
      await store.note(row, opts.workerId, { event: 'thumbnail_failed', details: errorFields(err) });
      await store.alert('upload_thumbnail_failed', 'warning', `the thumbnail of a scheduled upload could not be set: ${describe(err)}`, {
        schedule_id: row.id, workspace_id: row.workspace_id, youtube_video_id: row.youtube_video_id,
      });
      return 'failed';
    }
  }

  async function handleFailure(err: unknown): Promise<ScheduleOutcome> {
    const from = row.status;
    try {
      if (err instanceof LeaseLostError) return outcome(err.canceled ? 'canceled' : 'lease_lost', err.canceled ? 'canceled' : from, err.message);
      if (err instanceof QuotaExhaustedError) {
        const until = (err.source === 'budget' ? err.detail.resetsAt : undefined) ?? await store.nextQuotaReset();
        const message = `${err.message}; the upload waits for the daily quota to reset at ${googleTime(until)} (midnight Pacific time)`;
        return await wait(from, 'quota', until, message, 'upload_waiting_quota');
      }
      if (err instanceof UploadLimitError) {
        const until = await store.nextQuotaReset();
        return await wait(from, 'upload_limit', until, `${err.message}; trying again at ${googleTime(until)}`, 'upload_waiting_upload_limit');
      }
      if (err instanceof ReauthRequiredError) {
        return await wait(from, 'reauth_required', new Date(Date.now() + REAUTH_RECHECK_MS), err.message, 'upload_waiting_reauth');
      }
      if (err instanceof YouTubeApiError || err instanceof SourceUnavailableError || err instanceof SourceChangedError) {
        return await fail(from, describe(err));
      }
      // Transient (retries ran out, connection trouble, the session stalled) or unexpected.
      const failures = row.failures + 1;
      if (failures >= MAX_FAILURES) return await fail(from, `${describe(err)} (failed ${failures} times in a row)`);
      const retryAfterMs = err instanceof YouTubeTransientError ? err.retryAfterMs : undefined;
      const delay = retryDelaySeconds(failures, retryAfterMs);
      await release(from, {
        to: from as 'scheduled' | 'uploading' | 'processing', at: new Date(Date.now() + delay * 1000), reason: 'retry', error: describe(err), failure: 'count',
        event: { event: 'retry_scheduled', details: { ...errorFields(err), failures, delay_seconds: delay, stalled: err instanceof UploadStalledError } },
      });
      logEvent('warn', 'upload_schedule_retry', { schedule_id: row.id, delay_seconds: delay, ...errorFields(err) });
      return outcome('retry', from, describe(err));
    } catch (releaseErr) {
      if (releaseErr instanceof LeaseLostError) return outcome(releaseErr.canceled ? 'canceled' : 'lease_lost', releaseErr.canceled ? 'canceled' : from, releaseErr.message);
      if (releaseErr instanceof Finished) return releaseErr.outcome;
      throw releaseErr;
    }
  }
}
