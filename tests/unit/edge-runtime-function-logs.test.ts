// Hosted keeps 100 log events per 10 s of a function and messages of up to 10,000 characters; the
// local runtime drops and cuts the same lines (limits on), or keeps them and says what hosted
// would have lost (limits off). What is dropped or cut is kept aside whole. A fake clock moves
// the window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FunctionLogs, HOSTED_LOG_LIMITS } from '../../local/edge-runtime/function-logs.ts';

function logsAt(enforced: boolean) {
  const written: string[] = [];
  const overflow: string[] = [];
  const timers: { at: number; fn: () => void }[] = [];
  let now = 1_000_000;
  const logs = new FunctionLogs(HOSTED_LOG_LIMITS, enforced, {
    write: (line) => written.push(line),
    overflow: (line) => overflow.push(line),
    now: () => now,
    later: (ms, fn) => void timers.push({ at: now + ms, fn }),
  });
  /** Moves the clock, running the timers that come due. */
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers.filter((t) => t.at <= now)) {
      timers.splice(timers.indexOf(t), 1);
      t.fn();
    }
  };
  return { logs, written, overflow, advance };
}

const own = (written: string[], fn: string) => written.filter((l) => l.startsWith(`${fn}[1] `));

test('past 100 lines within 10 s a function loses the rest until the window slides; the runtime says so', () => {
  const { logs, written, overflow, advance } = logsAt(true);
  for (let i = 1; i <= 130; i++) {
    logs.line('schedules', 'schedules[1]', `line ${i}`);
    advance(10); // 130 lines within 1.3 s
  }
  logs.line('health', 'health[1]', 'another function has its own threshold');
  assert.equal(own(written, 'schedules').length, 100);
  assert.equal(own(written, 'schedules').at(-1), 'schedules[1] line 100');
  assert.equal(own(written, 'health').length, 1);
  assert.equal(written.filter((l) => l.includes("past hosted's log event threshold")).length, 1, 'one note, not one per line');
  assert.deepEqual(logs.all().schedules, { events: 130, dropped: 30, cut: 0 });
  assert.deepEqual(
    overflow,
    Array.from({ length: 30 }, (_, i) => `schedules[1] line ${101 + i}`),
    'the dropped lines, kept aside',
  );

  // The first line kept left the window 10 s after it came: room for one again.
  advance(10_000 - 1_300);
  logs.line('schedules', 'schedules[1]', 'after the window');
  assert.deepEqual(written.slice(-2), ['schedules: 30 log line(s) were dropped (log event threshold)', 'schedules[1] after the window']);
  logs.line('schedules', 'schedules[1]', 'still full');
  assert.deepEqual(logs.all().schedules, { events: 132, dropped: 31, cut: 0 }, 'the window slides: only the oldest line left it');
});

test('the count of dropped lines is written once the window has room, even when nothing more comes', () => {
  const { logs, written, advance } = logsAt(true);
  for (let i = 1; i <= 105; i++) logs.line('render-video', 'render-video[1]', `line ${i}`);
  assert.ok(!written.some((l) => l.includes('were dropped')));
  advance(9_999);
  assert.ok(!written.some((l) => l.includes('were dropped')), 'not before the oldest line leaves the window');
  advance(1);
  assert.equal(written.at(-1), 'render-video: 5 log line(s) were dropped (log event threshold)');
  assert.equal(written.filter((l) => l.includes('were dropped')).length, 1);
});

test('a line longer than 10,000 characters is cut to 10,000, with a note', () => {
  const { logs, written, overflow } = logsAt(true);
  logs.line('account', 'account[1]', 'y'.repeat(12_345));
  assert.deepEqual(overflow, [`account[1] ${'y'.repeat(12_345)}`], 'whole, aside');
  const [line] = own(written, 'account');
  assert.equal(line, `account[1] ${'y'.repeat(10_000)}`);
  assert.ok(written.some((l) => l === "account: a log line of 12345 characters cut to 10000 (hosted's longest log message)"));
  assert.deepEqual(logs.all().account, { events: 1, dropped: 0, cut: 1 });
});

test('with the limits off every line is kept whole, and the counts say what hosted would have lost', () => {
  const { logs, written, overflow } = logsAt(false);
  for (let i = 1; i <= 120; i++) logs.line('schedules', 'schedules[1]', `line ${i}`);
  logs.line('schedules', 'schedules[1]', 'z'.repeat(10_001));
  assert.equal(own(written, 'schedules').length, 121);
  assert.deepEqual(overflow, []);
  assert.ok(written.some((l) => l.includes('hosted would drop its lines from here (limits off: kept)')));
  assert.deepEqual(logs.all().schedules, { events: 121, dropped: 21, cut: 0 }, 'the long line came past the threshold: dropped, not cut');
});
