// The Schedule page's logic: wall-clock ↔ instant in a time zone (DST included), the week and
// month grids and their ranges, grouping by day in the user's zone, and the allowed actions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  byDay,
  calendarGrid,
  dayKeyAt,
  gridTitle,
  instantOf,
  localInputValue,
  parseLocalInput,
  scheduleActions,
  updateBody,
  shiftAnchor,
  titleProblem,
} from '../../web/src/lib/schedule.ts';

test('a wall-clock time in a zone names the right instant, across DST changes', () => {
  assert.equal(
    instantOf({ year: 2026, month: 12, day: 1, hour: 18, minute: 0 }, 'Europe/Berlin').toISOString(),
    '2026-12-01T17:00:00.000Z',
  );
  assert.equal(instantOf({ year: 2026, month: 7, day: 1, hour: 18, minute: 0 }, 'Europe/Berlin').toISOString(), '2026-07-01T16:00:00.000Z');
  assert.equal(
    instantOf({ year: 2026, month: 11, day: 26, hour: 9, minute: 30 }, 'America/New_York').toISOString(),
    '2026-11-26T14:30:00.000Z',
  );
  assert.equal(
    instantOf({ year: 2026, month: 11, day: 26, hour: 9, minute: 30 }, 'Asia/Kolkata').toISOString(),
    '2026-11-26T04:00:00.000Z',
  );
  // 2026-03-29 02:30 does not exist in Berlin (clocks jump 02:00 → 03:00): the later side.
  assert.equal(
    instantOf({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, 'Europe/Berlin').toISOString(),
    '2026-03-29T01:30:00.000Z',
  );
  // 2026-10-25 02:30 happens twice in Berlin: the second one (standard time), as Postgres reads it.
  assert.equal(
    instantOf({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, 'Europe/Berlin').toISOString(),
    '2026-10-25T01:30:00.000Z',
  );
});

test('day keys and input values are in the given zone', () => {
  const at = new Date('2026-11-26T23:30:00Z');
  assert.equal(dayKeyAt(at, 'UTC'), '2026-11-26');
  assert.equal(dayKeyAt(at, 'Europe/Berlin'), '2026-11-27');
  assert.equal(dayKeyAt(at, 'America/Los_Angeles'), '2026-11-26');
  assert.equal(localInputValue(at, 'Asia/Tokyo'), '2026-11-27T08:30');
  assert.deepEqual(parseLocalInput('2026-12-01T18:05'), { year: 2026, month: 12, day: 1, hour: 18, minute: 5 });
  assert.equal(parseLocalInput('2026-02-30T10:00'), null);
  assert.equal(parseLocalInput('2026-12-01 18:05'), null);
});

test('a week runs Monday to Sunday and its range is midnight to midnight in the zone', () => {
  const g = calendarGrid('week', '2026-11-26', 'Europe/Berlin', new Date('2026-11-26T12:00:00Z'));
  assert.deepEqual(
    g.days.map((d) => d.key),
    ['2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28', '2026-11-29'],
  );
  assert.equal(g.days.find((d) => d.isToday)?.key, '2026-11-26');
  assert.equal(g.from.toISOString(), '2026-11-22T23:00:00.000Z');
  assert.equal(g.to.toISOString(), '2026-11-29T23:00:00.000Z');
  assert.match(gridTitle(g, 'en-GB'), /^23\s?–\s?29 Nov 2026$/);
});

test('a month grid covers whole weeks around the month, marking days outside it', () => {
  const nov = calendarGrid('month', '2026-11-10', 'UTC');
  assert.equal(nov.days.length, 42); // 1 Nov 2026 is a Sunday: six rows
  assert.equal(nov.days[0].key, '2026-10-26');
  assert.equal(nov.days.at(-1)?.key, '2026-12-06');
  assert.equal(nov.days.filter((d) => d.inMonth).length, 30);
  const feb = calendarGrid('month', '2027-02-01', 'UTC');
  assert.equal(feb.days.length, 28); // Feb 2027 starts on a Monday and has 4 weeks exactly
  assert.equal(gridTitle(nov, 'en'), 'November 2026');
  assert.equal(shiftAnchor('month', '2026-01-31', 1), '2026-02-01');
  assert.equal(shiftAnchor('month', '2026-01-15', -1), '2025-12-01');
  assert.equal(shiftAnchor('week', '2026-12-29', 1), '2027-01-05');
});

test('schedules are grouped by their day in the user’s zone, in time order', () => {
  const items = [
    { id: 'b', publish_at: '2026-11-26T23:30:00Z' },
    { id: 'a', publish_at: '2026-11-26T08:00:00Z' },
  ];
  const utc = byDay(items, 'UTC');
  assert.deepEqual(
    utc.get('2026-11-26')?.map((s) => s.id),
    ['a', 'b'],
  );
  const tokyo = byDay(items, 'Asia/Tokyo');
  assert.deepEqual(
    tokyo.get('2026-11-26')?.map((s) => s.id),
    ['a'],
  );
  assert.deepEqual(
    tokyo.get('2026-11-27')?.map((s) => s.id),
    ['b'],
  );
});

test('editing is offered before the upload starts, cancel while open, nothing to viewers', () => {
  assert.deepEqual(scheduleActions({ status: 'scheduled' }, 'editor'), { edit: true, reschedule: true, publishNow: true, cancel: true });
  assert.deepEqual(scheduleActions({ status: 'uploading' }, 'owner'), { edit: false, reschedule: false, publishNow: false, cancel: true });
  assert.deepEqual(scheduleActions({ status: 'published' }, 'owner'), { edit: false, reschedule: false, publishNow: false, cancel: false });
  assert.deepEqual(scheduleActions({ status: 'scheduled' }, 'viewer'), {
    edit: false,
    reschedule: false,
    publishNow: false,
    cancel: false,
  });
  assert.equal(scheduleActions({ status: 'processing' }, 'owner').cancel, false, 'YouTube already has the file');
  assert.equal(scheduleActions({ status: 'held' }, 'editor').cancel, true);
  assert.equal(titleProblem('  '), 'Give the video a title.');
  assert.equal(titleProblem('a <b>'), 'YouTube refuses < and > in titles.');
  assert.equal(titleProblem('x'.repeat(101)), 'Keep the title to 100 characters (YouTube’s limit).');
  assert.equal(titleProblem('Fine'), null);
});

test('a privacy change away from public switches the strategy to upload at publish time', () => {
  assert.deepEqual(updateBody({ privacy: 'unlisted', version: 3 }), { privacy: 'unlisted', version: 3, strategy: 'upload_at_time' });
  assert.deepEqual(updateBody({ privacy: 'public', version: 3 }), { privacy: 'public', version: 3 });
  assert.deepEqual(updateBody({ title: 'New', version: 1 }), { title: 'New', version: 1 });
});
