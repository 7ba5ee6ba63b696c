// The upload transitions of the engine (engine.ts has the table): start a new upload, resume a
// saved session, stream a bounded step of bytes, record the video YouTube made. Each takes the
// run context and its step, and returns the next step.
import { type SessionState, UPLOAD_UNIT, UploadSessionGoneError } from '../_shared/integrations/youtube/upload-client.ts';
import { VideoSource } from './video-source.ts';
import { done, fail, type OpenUpload, outcome, release, type RunContext, type Step, type StepOf, wait } from './context.ts';
import { REAUTH_RECHECK_MS, type SentMetadata, uploadedAsAsked, uploadPlan, videoResource } from './plan.ts';
import * as store from './store.ts';
import { runUpload, type UploadRunResult } from './upload-run.ts';

type Targets = { channel: NonNullable<store.Targets['channel']>; job: store.Targets['job'] };

/** The schedule's channel (connected and usable) and render; a finished step when unusable. */
export async function usableTargets(ctx: RunContext, loaded?: store.Targets): Promise<Targets | Step> {
  const t = loaded ?? (await store.loadTargets(ctx.row));
  if (!t.channel) return await fail(ctx, ctx.row.status, 'the YouTube channel was removed from this workspace');
  if (t.channel.status !== 'active') {
    return await wait(
      ctx,
      ctx.row.status,
      'reauth_required',
      new Date(Date.now() + REAUTH_RECHECK_MS),
      `the YouTube channel needs to be reconnected (it is ${t.channel.status}); the upload waits for that`,
      'upload_waiting_reauth',
    );
  }
  return { channel: t.channel, job: t.job };
}

const isStep = (t: Targets | Step): t is Step => 'to' in t;

/**
 * The render's file, read in ranges no longer than the step can send (so a step reads only its
 * part); unbounded when the budget is.
 */
function sourceFor(ctx: RunContext, url: string, expectedTotal: number | null): VideoSource {
  const left = ctx.budget.left;
  const window = left >= Number.MAX_SAFE_INTEGER / 2 ? undefined : Math.max(UPLOAD_UNIT, Math.ceil(left / UPLOAD_UNIT) * UPLOAD_UNIT);
  const retry = ctx.opts.retry ? { ...ctx.opts.retry, timeoutMs: 30_000 } : undefined;
  return new VideoSource(url, { retry, expectedTotal, window });
}

/** scheduled (or uploading with its session gone): metadata → session → begin_upload → stream. */
export async function startUpload(ctx: RunContext, step: StepOf<'start'>): Promise<Step> {
  const targets = await usableTargets(ctx);
  if (isStep(targets)) return targets;
  const { channel, job } = targets;
  if (!job) return await fail(ctx, ctx.row.status, 'the render of this schedule was deleted');
  if (job.status !== 'ready' || !job.video_url) return await fail(ctx, ctx.row.status, `the render is ${job.status}, not ready`);
  const plan = uploadPlan(ctx.row, Date.now());
  if (plan.kind === 'wait') {
    await release(ctx, ctx.row.status, { to: ctx.row.status as 'scheduled', at: plan.until, reason: null, error: null, failure: 'keep' });
    return done(outcome(ctx, 'deferred', ctx.row.status, `uploads at ${plan.until.toISOString()}`));
  }
  const resource = videoResource(ctx.row, plan);
  const sent: SentMetadata = { ...resource, notifySubscribers: ctx.row.notify_subscribers };
  const source = sourceFor(ctx, job.video_url, null);
  let handedOver = false;
  try {
    const opened = await source.open(0);
    const uploader = ctx.clients.uploader(channel);
    const uri = await uploader.startSession({
      metadata: resource,
      totalBytes: opened.totalBytes,
      contentType: opened.contentType,
      notifySubscribers: ctx.row.notify_subscribers,
    });
    const begun = await store.beginUpload(ctx.row, ctx.opts.workerId, uri, opened.totalBytes, sent, ctx.opts.leaseSeconds);
    if (begun === 'changed' && step.depth < 3) return await afterEdit(ctx, step.depth);
    if (begun === 'canceled') return done(outcome(ctx, 'canceled', 'canceled', 'canceled before the upload started'));
    if (begun !== 'started') return done(outcome(ctx, 'lease_lost', ctx.row.status, `could not start the upload: ${begun}`));
    ctx.row = { ...ctx.row, status: 'uploading', upload_offset: 0, final_chunk_at: null, sent_metadata: sent };
    handedOver = true;
    return { to: 'stream', upload: { uploader, uri, total: opened.totalBytes, from: 0, videoUrl: job.video_url, source } };
  } finally {
    if (!handedOver) await source.close();
  }
}

/** Edited after this worker read it: that session never gets a byte; make one for the edit. */
async function afterEdit(ctx: RunContext, depth: number): Promise<Step> {
  const fresh = await store.reread(ctx.row.id);
  if (!fresh || fresh.lease_owner !== ctx.opts.workerId || fresh.status !== 'scheduled') {
    return done(outcome(ctx, 'lease_lost', fresh?.status ?? 'gone'));
  }
  ctx.row = fresh;
  return { to: 'start', depth: depth + 1 };
}

/** uploading: ask the saved session where it stands → the video it made, or stream on from there. */
export async function resumeUpload(ctx: RunContext, _step: StepOf<'resume'>): Promise<Step> {
  const loaded = await store.loadTargets(ctx.row, true);
  const targets = await usableTargets(ctx, loaded);
  if (isStep(targets)) return targets;
  const session = loaded.session;
  const uploader = ctx.clients.uploader(targets.channel);
  const handover = handedOver(ctx);
  let state;
  try {
    if (!session) throw new UploadSessionGoneError(404);
    state = handover ?? (await uploader.queryStatus(session.uri, session.total));
  } catch (err) {
    if (!(err instanceof UploadSessionGoneError)) throw err;
    return await sessionLost(ctx);
  }
  if (state.kind === 'complete') {
    await ctx.opts.hooks?.afterAnswer?.({ sent: false, final: true, state, total: session!.total });
    return { to: 'record', video: state.video, learntFrom: 'status_query', bytesSent: 0 };
  }
  const videoUrl = targets.job?.video_url;
  if (!videoUrl) return await fail(ctx, 'uploading', 'the render of this schedule was deleted during its upload');
  await store.note(ctx.row, ctx.opts.workerId, {
    event: 'upload_resumed',
    details: {
      from_offset: state.confirmed,
      saved_offset: ctx.row.upload_offset,
      total_bytes: session!.total,
      attempt: ctx.row.attempts,
      offset_from: handover ? 'handover' : 'status_query',
    },
  });
  if (state.confirmed !== ctx.row.upload_offset) {
    const saved = await store.saveOffset(ctx.row.id, ctx.opts.workerId, state.confirmed, ctx.opts.leaseSeconds);
    if (saved !== 'ok') return done(await stopped(ctx, { kind: saved, offset: state.confirmed, bytesSent: 0 }));
    ctx.row = { ...ctx.row, upload_offset: state.confirmed };
  }
  return { to: 'stream', upload: { uploader, uri: session!.uri, total: session!.total, from: state.confirmed, videoUrl, source: null } };
}

/**
 * The offset YouTube confirmed, without asking it, when this invocation is the step a clean pause
 * called and nobody claimed the row in between (every claim counts one attempt) nor moved its
 * offset: then no byte went out after that confirmation. Otherwise null: ask the session.
 */
function handedOver(ctx: RunContext): SessionState | null {
  const h = ctx.opts.handover;
  if (!h || ctx.row.attempts !== h.attempts + 1 || ctx.row.upload_offset !== h.upload_offset) return null;
  return { kind: 'incomplete', confirmed: h.upload_offset };
}

/** The session is gone at YouTube: a new one, unless the last chunk went out (then a person looks). */
async function sessionLost(ctx: RunContext): Promise<Step> {
  if (ctx.row.final_chunk_at) {
    // The last chunk went out, so YouTube may have made the video: a new session could make a
    // second one.
    return await fail(
      ctx,
      'uploading',
      'the upload session expired after its last chunk was sent, so YouTube may already have the video; check YouTube Studio before scheduling it again',
    );
  }
  await store.note(ctx.row, ctx.opts.workerId, { event: 'session_lost', details: { upload_offset: ctx.row.upload_offset } });
  return { to: 'start', depth: 0 };
}

/** Sends bytes from the confirmed offset until the video is made or the step's budget is spent. */
export async function streamUpload(ctx: RunContext, step: StepOf<'stream'>): Promise<Step> {
  const u: OpenUpload = step.upload;
  const source = u.source ?? sourceFor(ctx, u.videoUrl, u.total);
  try {
    const result = await runUpload(u.uri, u.total, u.from, {
      uploader: u.uploader,
      source,
      budget: ctx.budget,
      chunkBytes: ctx.opts.chunkBytes,
      hooks: ctx.opts.hooks,
      progress: {
        saveOffset: (offset) => store.saveOffset(ctx.row.id, ctx.opts.workerId, offset, ctx.opts.leaseSeconds),
        beginFinalChunk: () => store.beginFinalChunk(ctx.row.id, ctx.opts.workerId),
      },
    });
    if (result.kind === 'complete')
      return { to: 'record', video: result.video, learntFrom: result.learntFrom, bytesSent: result.bytesSent };
    return done(await stopped(ctx, result));
  } finally {
    await source.close();
  }
}

/** An upload that stopped before its end: canceled, taken over, or paused for the next step. */
async function stopped(ctx: RunContext, result: Exclude<UploadRunResult, { kind: 'complete' }>) {
  if (result.kind === 'yielded') {
    const paused = await store.pauseUpload(ctx.row.id, ctx.opts.workerId, result.offset, ctx.opts.nextCall ?? {});
    if (paused === 'ok')
      return outcome(ctx, 'yielded', 'uploading', `paused at byte ${result.offset}; the next step was called`, result.bytesSent);
    result = { ...result, kind: paused };
  }
  if (result.kind === 'canceled') {
    await store.letGo(ctx.row, ctx.opts.workerId, result.offset);
    return outcome(ctx, 'canceled', 'canceled', `canceled during the upload at byte ${result.offset}`, result.bytesSent);
  }
  return outcome(ctx, 'lease_lost', 'uploading', 'another worker took the upload over', result.bytesSent);
}

/** YouTube made the video: record it (whoever learnt of it), and check it is what was asked for. */
export async function recordVideo(ctx: RunContext, step: StepOf<'record'>): Promise<Step> {
  await store.recordVideo(ctx.row.id, ctx.opts.workerId, step.video, step.learntFrom);
  const sent = ctx.row.sent_metadata!;
  ctx.row = { ...ctx.row, status: 'processing', youtube_video_id: step.video.id };
  const problem = uploadedAsAsked(sent, step.video);
  if (problem) return await fail(ctx, 'processing', problem, { youtube_video_id: step.video.id });
  return { to: 'finish', justUploaded: step.video, bytesSent: step.bytesSent };
}
