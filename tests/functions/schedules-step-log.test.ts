// A schedules worker invocation logs one line for all the schedules it took up (hosted keeps 100
// log lines per 10 s of a function, of at most 10,000 characters each): counts by result, the
// schedules that need a look named (at most NAMED_AT_MOST, short messages, secrets out), and the
// invocation's own problems and token events.
import { assertEquals } from './assert.ts';
import type { ScheduleOutcome } from '../../supabase/functions/schedules/context.ts';
import { LINE_CHARS, NAMED_AT_MOST } from '../../supabase/functions/_shared/platform/observability/log-line.ts';
import type { InvocationEvents } from '../../supabase/functions/_shared/integrations/youtube/event-log.ts';
import { logStep, stepSummary } from '../../supabase/functions/schedules/step-log.ts';

const outcome = (n: number, result: ScheduleOutcome['result'], message?: string): ScheduleOutcome => ({
  schedule_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  result,
  status: 'x',
  ...(message ? { message } : {}),
});
const totals = { bytesSent: 1234, chained: 1, ms: 900 };
const quietEvents: InvocationEvents = { leaseRenewalsFailed: 0, tokensRefreshed: 0, reauthChannels: new Set() };

/** The lines logStep writes, by console method. */
function logged(summary: ReturnType<typeof stepSummary>): { level: string; line: string }[] {
  const lines: { level: string; line: string }[] = [];
  const originals = { log: console.log, warn: console.warn, error: console.error };
  console.log = (line: string) => lines.push({ level: 'log', line });
  console.warn = (line: string) => lines.push({ level: 'warn', line });
  console.error = (line: string) => lines.push({ level: 'error', line });
  try {
    logStep(summary);
  } finally {
    Object.assign(console, originals);
  }
  return lines;
}

Deno.test('the summary counts results and names the schedules that need a look', () => {
  const outcomes = [
    ...Array.from({ length: 7 }, (_, i) => outcome(i, 'published')),
    outcome(7, 'yielded'),
    outcome(8, 'retry', 'YouTube answered 503'),
    outcome(9, 'failed', 'the render of this schedule was deleted'),
  ];
  const s = stepSummary('schedules:w', outcomes, totals);
  assertEquals(s.schedules, 10);
  assertEquals(s.results, { published: 7, yielded: 1, retry: 1, failed: 1 });
  assertEquals(s.attention, [
    { schedule_id: outcomes[8].schedule_id, result: 'retry', message: 'YouTube answered 503' },
    { schedule_id: outcomes[9].schedule_id, result: 'failed', message: 'the render of this schedule was deleted' },
  ]);
  assertEquals(s.attention_more, undefined);
  assertEquals([s.bytes_sent, s.chained, s.ms], [1234, 1, 900]);
  const quiet = logged(stepSummary('schedules:w', outcomes.slice(0, 8), totals));
  assertEquals(
    quiet.map((l) => l.level),
    ['log'],
    'all well: one info line',
  );
});

Deno.test('a mass failure stays one line under 10,000 characters, whatever its messages hold', () => {
  for (const filler of ['z', '"', '\u0001']) {
    const outcomes = Array.from({ length: 60 }, (_, i) => outcome(i, 'retry', `a long reason ${filler.repeat(5_000)}`));
    const s = stepSummary('schedules:w', outcomes, totals);
    assertEquals(s.attention.length + (s.attention_more ?? 0), 60);
    assertEquals(s.attention.length <= NAMED_AT_MOST && s.attention.length > 0, true);
    const lines = logged(s);
    assertEquals(
      lines.map((l) => l.level),
      ['warn'],
      'one warning line',
    );
    const line = JSON.parse(lines[0].line);
    assertEquals([line.event, line.results.retry], ['upload_worker_step', 60]);
    assertEquals(lines[0].line.length < 10_000 && JSON.stringify(s).length <= LINE_CHARS, true, `${lines[0].line.length} characters`);
  }
});

Deno.test('secrets are taken out of a message before it is cut', () => {
  // An authorization code that a cut at 200 characters would leave shorter than its pattern.
  const code = `4/${'A'.repeat(40)}`;
  const s = stepSummary('schedules:w', [outcome(1, 'retry', `${'x'.repeat(190)} ${code}`)], totals);
  assertEquals(s.attention[0].message!.includes('AAAA'), false, s.attention[0].message);
});

Deno.test("an invocation's lease problems are counted in its line, the first one named, and make it a warning", () => {
  const s = stepSummary('schedules:w', [outcome(1, 'published')], totals, {
    ...quietEvents,
    leaseRenewalsFailed: 3,
    leaseError: 'schedule 1: connection refused',
  });
  assertEquals([s.lease_renewals_failed, s.lease_error], [3, 'schedule 1: connection refused']);
  assertEquals(
    logged(s).map((l) => l.level),
    ['warn'],
  );
});

Deno.test('a schedule that went on with a note (a thumbnail given up) is named, and makes the line a warning', () => {
  const published = { ...outcome(1, 'published'), note: 'thumbnail given up: the thumbnail URL could not be fetched (refused: private)' };
  const s = stepSummary('schedules:w', [outcome(0, 'published'), published], totals);
  assertEquals(s.results, { published: 2 });
  assertEquals(s.attention, [{ schedule_id: published.schedule_id, result: 'published', note: published.note }]);
  assertEquals(
    logged(s).map((l) => l.level),
    ['warn'],
  );
});

Deno.test("an invocation's token refreshes are counted and its channels to reconnect named, once each", () => {
  const refreshedOnly = stepSummary('schedules:w', [outcome(1, 'published')], totals, { ...quietEvents, tokensRefreshed: 2 });
  assertEquals([refreshedOnly.tokens_refreshed, refreshedOnly.channels_reauth_required], [2, undefined]);
  assertEquals(
    logged(refreshedOnly).map((l) => l.level),
    ['log'],
    'a refresh is routine',
  );
  const channels = Array.from({ length: NAMED_AT_MOST + 5 }, (_, i) => `channel-${i}`);
  const reauth = stepSummary('schedules:w', [outcome(1, 'waiting', 'reconnect')], totals, {
    ...quietEvents,
    reauthChannels: new Set(channels),
  });
  assertEquals(reauth.tokens_refreshed, undefined);
  assertEquals(reauth.channels_reauth_required, channels.slice(0, NAMED_AT_MOST));
  assertEquals(reauth.channels_reauth_more, 5);
  assertEquals(
    logged(reauth).map((l) => l.level),
    ['warn'],
  );
});
