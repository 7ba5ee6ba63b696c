// The upload engine: one claimed schedule taken as far as this invocation's budget allows, as an
// explicit state machine. The row's status picks the first transition; each transition is a
// top-level function (ctx, step) → next step, and the driver below follows the table, so every
// path a schedule can take is written here once:
//
//   status      first transition   transition → may lead to
//   scheduled   start              start   → stream | start (edited meanwhile) | done
//   uploading   resume             resume  → stream | record | start (session gone) | done
//   processing  finish             stream  → record | done (yielded: paused, next step called)
//                                  record  → finish | done (not what was asked: failed)
//                                  finish  → done
//
// A transition that throws ends in failure.ts (wait, retry or fail by the kind of error).
import { StepBudget } from './budget.ts';
import { ChannelClients } from './channel-clients.ts';
import {
  done,
  type EngineOptions,
  outcome,
  type Result,
  type RunContext,
  type ScheduleOutcome,
  type Step,
  type StepOf,
} from './context.ts';
import { handleFailure } from './failure.ts';
import { finishProcessing } from './publish-step.ts';
import type { ScheduleRow } from './store.ts';
import { recordVideo, resumeUpload, startUpload, streamUpload } from './upload-steps.ts';

// What `done` reports (ScheduleOutcome.result), and where the row is then:
export const OUTCOMES = {
  published: 'the video is out: published now, or YouTube confirmed its publishAt (status published)',
  processing: 'uploaded; YouTube publishes it at publishAt, looked at again just after (processing)',
  waiting: 'quota, upload limit or reconnect: due again when that may have changed (same status)',
  retry: 'a transient failure: due again after backoff (same status, failures counted)',
  deferred: 'claimed before its time: due at publish_at (scheduled)',
  failed: 'permanent: the reason is on the row and an alert is logged (failed)',
  canceled: 'canceled by a person before or during the upload (canceled)',
  yielded: "the step's budget is spent: the offset YouTube confirmed is saved and the next step called (uploading)",
  lease_lost: 'another worker holds the row now; nothing written',
} as const satisfies Record<Result, string>;

export { ChannelClients };
export type { EngineOptions, RunContext, ScheduleOutcome, Step };

type Transition = Exclude<Step['to'], 'done'>;
type Table = { [K in Transition]: { run: (ctx: RunContext, step: StepOf<K>) => Promise<Step>; next: readonly Step['to'][] } };

export const TRANSITIONS: Table = {
  start: { run: startUpload, next: ['stream', 'start', 'done'] },
  resume: { run: resumeUpload, next: ['stream', 'record', 'start', 'done'] },
  stream: { run: streamUpload, next: ['record', 'done'] },
  record: { run: recordVideo, next: ['finish', 'done'] },
  finish: { run: finishProcessing, next: ['done'] },
};

/** Where a claimed row starts. */
export function firstStep(ctx: RunContext): Step {
  switch (ctx.row.status) {
    case 'scheduled':
      return { to: 'start', depth: 0 };
    case 'uploading':
      return { to: 'resume' };
    case 'processing':
      return { to: 'finish' };
    default:
      return done(outcome(ctx, 'lease_lost', ctx.row.status, `nothing to do in status ${ctx.row.status}`));
  }
}

export function runContext(claimed: ScheduleRow, opts: EngineOptions, clients: ChannelClients): RunContext {
  const budget =
    opts.budget ??
    (opts.deadline === undefined
      ? StepBudget.unlimited()
      : new StepBudget({ bytes: Number.MAX_SAFE_INTEGER, deadline: opts.deadline, scheduleCostBytes: 0 }));
  return { row: claimed, opts, clients, budget };
}

/** Runs transitions from `step` until one is done; a transition that throws is handled by failure.ts. */
export async function drive(ctx: RunContext, step: Step): Promise<ScheduleOutcome> {
  try {
    while (step.to !== 'done') {
      const from: Transition = step.to;
      const entry = TRANSITIONS[from] as { run: (ctx: RunContext, step: Step) => Promise<Step>; next: readonly Step['to'][] };
      step = await entry.run(ctx, step);
      if (!entry.next.includes(step.to))
        throw new Error(`the upload engine went from ${from} to ${step.to}, which its table does not allow`);
    }
    return step.outcome;
  } catch (err) {
    return await handleFailure(ctx, err);
  }
}

export async function processSchedule(claimed: ScheduleRow, opts: EngineOptions, clients: ChannelClients): Promise<ScheduleOutcome> {
  const ctx = runContext(claimed, opts, clients);
  return await drive(ctx, firstStep(ctx));
}
