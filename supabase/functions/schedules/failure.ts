// What a transition's error means for the schedule (engine.ts runs this when one throws):
//   lease lost / canceled meanwhile     → nothing more to write
//   quota (ours or Google's)            → wait for the daily reset
//   the workspace's share of the quota  → wait for the borrow hour
//   the channel's upload limit          → wait for the daily reset
//   the channel must be reconnected     → wait, looked at again later
//   YouTube refused / the render is gone or changed → failed
//   anything else (transient)           → retried with backoff, failed after MAX_FAILURES in a row
import {
  QuotaExhaustedError,
  ReauthRequiredError,
  YouTubeApiError,
  YouTubeTransientError,
} from '../_shared/integrations/youtube/errors.ts';
import { UploadLimitError } from '../_shared/integrations/youtube/upload-client.ts';
import { errorFields } from '../_shared/integrations/youtube/event-log.ts';
import { SourceChangedError, SourceUnavailableError } from './video-source.ts';
import { describe, fail, outcome, release, type RunContext, type ScheduleOutcome, type Step, wait } from './context.ts';
import { googleTime, MAX_FAILURES, REAUTH_RECHECK_MS, retryDelaySeconds } from './plan.ts';
import * as store from './store.ts';
import { LeaseLostError } from './store.ts';
import { UploadStalledError } from './upload-run.ts';

function leaseOutcome(ctx: RunContext, err: LeaseLostError, from: string): ScheduleOutcome {
  return outcome(ctx, err.canceled ? 'canceled' : 'lease_lost', err.canceled ? 'canceled' : from, err.message);
}

const finished = (step: Step): ScheduleOutcome => {
  if (step.to !== 'done') throw new Error(`a failure led to ${step.to}`);
  return step.outcome;
};

export async function handleFailure(ctx: RunContext, err: unknown): Promise<ScheduleOutcome> {
  const from = ctx.row.status;
  try {
    if (err instanceof LeaseLostError) return leaseOutcome(ctx, err, from);
    if (err instanceof QuotaExhaustedError && err.source === 'share' && err.retryAt) {
      const until = err.retryAt;
      const message = `${err.message}; the upload waits until ${googleTime(until)}, when the workspace may borrow unused quota of the project (or the daily reset)`;
      return finished(await wait(ctx, from, 'quota_share', until, message, 'upload_waiting_quota_share'));
    }
    if (err instanceof QuotaExhaustedError) {
      const until = err.retryAt ?? (await store.nextQuotaReset());
      const message = `${err.message}; the upload waits for the daily quota to reset at ${googleTime(until)} (midnight Pacific time)`;
      return finished(await wait(ctx, from, 'quota', until, message, 'upload_waiting_quota'));
    }
    if (err instanceof UploadLimitError) {
      const until = await store.nextQuotaReset();
      return finished(
        await wait(ctx, from, 'upload_limit', until, `${err.message}; trying again at ${googleTime(until)}`, 'upload_waiting_upload_limit'),
      );
    }
    if (err instanceof ReauthRequiredError) {
      return finished(
        await wait(ctx, from, 'reauth_required', new Date(Date.now() + REAUTH_RECHECK_MS), err.message, 'upload_waiting_reauth'),
      );
    }
    if (err instanceof YouTubeApiError || err instanceof SourceUnavailableError || err instanceof SourceChangedError) {
      return finished(await fail(ctx, from, describe(err)));
    }
    return await retryLater(ctx, err);
  } catch (releaseErr) {
    if (releaseErr instanceof LeaseLostError) return leaseOutcome(ctx, releaseErr, from);
    throw releaseErr;
  }
}

/** Transient (retries ran out, connection trouble, the session stalled) or unexpected. */
async function retryLater(ctx: RunContext, err: unknown): Promise<ScheduleOutcome> {
  const from = ctx.row.status;
  const failures = ctx.row.failures + 1;
  if (failures >= MAX_FAILURES) return finished(await fail(ctx, from, `${describe(err)} (failed ${failures} times in a row)`));
  const retryAfterMs = err instanceof YouTubeTransientError ? err.retryAfterMs : undefined;
  const delay = retryDelaySeconds(failures, retryAfterMs);
  await release(ctx, from, {
    to: from as 'scheduled' | 'uploading' | 'processing',
    at: new Date(Date.now() + delay * 1000),
    reason: 'retry',
    error: describe(err),
    failure: 'count',
    event: {
      event: 'retry_scheduled',
      details: { ...errorFields(err), failures, delay_seconds: delay, stalled: err instanceof UploadStalledError },
    },
  });
  return outcome(ctx, 'retry', from, describe(err));
}
