// A sync worker invocation logs one line for all the runs it took up (hosted keeps 100 log lines
// per 10 s of a function): counts by outcome, the runs that need a look named (short messages,
// secrets out, steps' notes), the channels to reconnect, token refreshes and lease problems.
import { assertEquals, assertOk } from './assert.ts';
import { LINE_CHARS, NAMED_AT_MOST } from '../../supabase/functions/_shared/platform/observability/log-line.ts';
import type { RunOutcome } from '../../supabase/functions/youtube-sync/engine.ts';
import type { InvocationEvents } from '../../supabase/functions/_shared/integrations/youtube/event-log.ts';
import { logSyncStep, syncStepLine } from '../../supabase/functions/youtube-sync/step-log.ts';

const run = (n: number, status: RunOutcome['status'], extra: Partial<RunOutcome> = {}): RunOutcome => ({
  run_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  channel_id: `10000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  status,
  steps: 3,
  phase: status === 'succeeded' ? 'done' : 'analytics',
  ...extra,
});
const quiet: InvocationEvents = { leaseRenewalsFailed: 0, tokensRefreshed: 0, reauthChannels: new Set<string>() };

function logged(runs: RunOutcome[], events = quiet): { level: string; line: Record<string, unknown> }[] {
  const lines: { level: string; line: Record<string, unknown> }[] = [];
  const originals = { log: console.log, warn: console.warn, error: console.error };
  console.log = (l: string) => lines.push({ level: 'info', line: JSON.parse(l) });
  console.warn = (l: string) => lines.push({ level: 'warn', line: JSON.parse(l) });
  console.error = (l: string) => lines.push({ level: 'error', line: JSON.parse(l) });
  try {
    logSyncStep(syncStepLine('youtube-sync:w', runs, 1200, events), runs);
  } finally {
    Object.assign(console, originals);
  }
  return lines;
}

Deno.test('runs that all succeeded: one info line with the counts and the token refreshes', () => {
  const lines = logged([run(1, 'succeeded'), run(2, 'succeeded'), run(3, 'yielded')], { ...quiet, tokensRefreshed: 2 });
  assertEquals(lines.length, 1);
  assertEquals(lines[0].level, 'info');
  const l = lines[0].line;
  assertEquals([l.event, l.runs, l.results, l.steps, l.tokens_refreshed], ['sync_worker_step', 3, { succeeded: 2, yielded: 1 }, 9, 2]);
  assertEquals(l.attention, []);
});

Deno.test("the runs to look at are named with their message and their steps' notes; the channels to reconnect too", () => {
  const runs = [
    run(1, 'succeeded', { notes: ['listing restarted from the first page: YouTubeApiError: invalid page token'] }),
    run(2, 'queued', { message: 'YouTubeTransientError: 503 (again in 30 s)', level: 'warn' }),
    run(3, 'failed', { message: 'ReauthRequiredError: reconnect', level: 'warn' }),
  ];
  const [{ level, line }] = logged(runs, { ...quiet, reauthChannels: new Set([runs[2].channel_id]) });
  assertEquals(level, 'warn');
  assertEquals(
    (line.attention as { run_id: string }[]).map((a) => a.run_id),
    runs.map((r) => r.run_id),
  );
  assertEquals((line.attention as { notes?: string[] }[])[0].notes, runs[0].notes);
  assertEquals(line.channels_reauth_required, [runs[2].channel_id]);
});

Deno.test('a run that failed after its errors in a row ran out makes the line an error', () => {
  const [{ level }] = logged([run(1, 'succeeded'), run(2, 'failed', { message: 'x (failed 5 times in a row)', level: 'error' })]);
  assertEquals(level, 'error');
});

Deno.test('a mass failure stays one line under 10,000 characters, secrets out, lease problems counted', () => {
  const code = `4/${'A'.repeat(40)}`;
  // Each message has the code across the 200-character cut: redacting after the cut would leave
  // part of it; quotes, which JSON escaping doubles, make the line long.
  const runs = Array.from({ length: 60 }, (_, i) => run(i, 'queued', { message: `${'"'.repeat(180)} ${code} ${'"'.repeat(3_000)}` }));
  const lines = logged(runs, { ...quiet, leaseRenewalsFailed: 2, leaseError: `run 1: ${code}` });
  assertEquals(lines.length, 1);
  const l = lines[0].line;
  const named = (l.attention as unknown[]).length;
  assertOk(named > 0 && named <= NAMED_AT_MOST, `${named} named`);
  assertEquals(named + ((l.attention_more as number) ?? 0), 60);
  assertOk(JSON.stringify(l).length < 10_000 && JSON.stringify(syncStepLine('w', runs, 1, quiet)).length <= LINE_CHARS);
  assertOk(!JSON.stringify(l).includes('AAAA'), 'the code is redacted');
  assertEquals(l.lease_renewals_failed, 2);
});
