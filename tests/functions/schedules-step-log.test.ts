// A schedules worker invocation logs one line for all the schedules it took up (hosted keeps 100
// log lines per 10 s of a function, of at most 10,000 characters each): counts by result, and
// the schedules that need a look named, at most NAMED_AT_MOST of them with short messages.
import { assertEquals } from './assert.ts';
import type { ScheduleOutcome } from '../../supabase/functions/schedules/context.ts';
import { logStep, NAMED_AT_MOST, stepSummary } from '../../supabase/functions/schedules/step-log.ts';

const outcome = (n: number, result: ScheduleOutcome['result'], message?: string): ScheduleOutcome => ({
  schedule_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  result,
  status: 'x',
  ...(message ? { message } : {}),
});

Deno.test('the summary counts results and names the schedules that need a look', () => {
  const outcomes = [
    ...Array.from({ length: 7 }, (_, i) => outcome(i, 'published')),
    outcome(7, 'yielded'),
    outcome(8, 'retry', 'YouTube answered 503'),
    outcome(9, 'failed', 'the render of this schedule was deleted'),
  ];
  const s = stepSummary('schedules:w', outcomes, 1234, 1, 900);
  assertEquals(s.schedules, 10);
  assertEquals(s.results, { published: 7, yielded: 1, retry: 1, failed: 1 });
  assertEquals(s.attention, [
    { schedule_id: outcomes[8].schedule_id, result: 'retry', message: 'YouTube answered 503' },
    { schedule_id: outcomes[9].schedule_id, result: 'failed', message: 'the render of this schedule was deleted' },
  ]);
  assertEquals(s.attention_more, undefined);
  assertEquals([s.bytes_sent, s.chained, s.ms], [1234, 1, 900]);
});

Deno.test('a mass failure stays one line far below 10,000 characters: the rest are counted', () => {
  const outcomes = Array.from({ length: 60 }, (_, i) => outcome(i, 'retry', `a long reason ${'z'.repeat(5_000)}`));
  const s = stepSummary('schedules:w', outcomes, 0, 0, 10);
  assertEquals(s.attention.length, NAMED_AT_MOST);
  assertEquals(s.attention_more, 60 - NAMED_AT_MOST);
  const lines: string[] = [];
  const original = console.warn;
  console.warn = (line: string) => lines.push(line);
  try {
    logStep(s);
  } finally {
    console.warn = original;
  }
  assertEquals(lines.length, 1, 'one warning line');
  const logged = JSON.parse(lines[0]);
  assertEquals([logged.level, logged.event, logged.results.retry], ['warn', 'upload_worker_step', 60]);
  assertEquals(lines[0].length < 10_000, true, `${lines[0].length} characters`);
});
