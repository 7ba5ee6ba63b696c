// Upload schedules as the Schedule page uses them: the calendar (a week or a month of days in the
// user's profile time zone, and which schedules fall on each day), time-zone math (a wall-clock
// time in a zone ↔ an instant), and the schedules function's calls.
import * as z from 'zod/mini';
import { callFunction, segment, type FunctionsInvoker } from './api.ts';
import { roleAtLeast, type Role } from './roles.ts';
import { MAX_TITLE_CHARS, SCHEDULE_STATUSES, type PrivacyStatus } from '../../../supabase/functions/_shared/contracts/schedules.ts';

export { SCHEDULE_STATUSES };

// ── Time zones ──────────────────────────────────────────────────────────────────────────────────

export interface WallClock {
  year: number;
  month: number; // 1–12
  day: number;
  hour: number;
  minute: number;
}

const partsFormatters = new Map<string, Intl.DateTimeFormat>();
function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = partsFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsFormatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock in `timeZone` at an instant. */
export function wallClockAt(at: Date, timeZone: string): WallClock & { second: number } {
  const parts = Object.fromEntries(
    partsFormatter(timeZone)
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

function offsetMs(at: Date, timeZone: string): number {
  const w = wallClockAt(at, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/**
 * The instant a wall-clock time in `timeZone` names. A time skipped by a DST jump resolves to
 * the same clock time after the jump (02:30 on a spring-forward night → 03:30); a repeated one
 * to its second occurrence (standard time). Postgres, which reads the wall-clock times this page
 * sends with their time_zone, resolves both the same way.
 */
export function instantOf(w: WallClock, timeZone: string): Date {
  const guess = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  const first = guess - offsetMs(new Date(guess), timeZone);
  const second = guess - offsetMs(new Date(first), timeZone);
  if (first === second) return new Date(first);
  // Around a transition: prefer the earlier candidate that shows the asked-for time, else the later.
  const candidates = [Math.min(first, second), Math.max(first, second)];
  for (const c of candidates) {
    const back = wallClockAt(new Date(c), timeZone);
    if (back.hour === w.hour && back.minute === w.minute && back.day === w.day) return new Date(c);
  }
  return new Date(Math.max(first, second));
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** "2026-12-01" for a day. */
export function dayKey(d: { year: number; month: number; day: number }): string {
  return `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`;
}

/** The day (in `timeZone`) an instant falls on. */
export function dayKeyAt(at: Date | string, timeZone: string): string {
  return dayKey(wallClockAt(new Date(at), timeZone));
}

/** "2026-12-01T18:00" in `timeZone`: what a datetime-local input shows and the function accepts with time_zone. */
export function localInputValue(at: Date | string, timeZone: string): string {
  const w = wallClockAt(new Date(at), timeZone);
  return `${dayKey(w)}T${pad(w.hour)}:${pad(w.minute)}`;
}

/** Parses "2026-12-01T18:00" (a datetime-local value); null when it is not one. */
export function parseLocalInput(value: string): WallClock | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute] = m.slice(1).map(Number);
  const probe = new Date(Date.UTC(year, month - 1, day, hour, minute));
  if (probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day || hour > 23 || minute > 59) return null;
  return { year, month, day, hour, minute };
}

// ── Calendar grid ───────────────────────────────────────────────────────────────────────────────

export type CalendarView = 'week' | 'month';

export interface CalendarDay {
  key: string;
  year: number;
  month: number;
  day: number;
  /** 0 = Monday … 6 = Sunday */
  weekday: number;
  inMonth: boolean;
  isToday: boolean;
}

export interface CalendarGrid {
  view: CalendarView;
  days: CalendarDay[];
  /** The instants the grid covers: midnight of its first day to midnight after its last, in the zone. */
  from: Date;
  to: Date;
  /** The day the grid was built around (navigation moves it). */
  anchor: string;
}

function civil(key: string) {
  const [year, month, day] = key.split('-').map(Number);
  return { year, month, day };
}

function addDays(key: string, n: number): string {
  const { year, month, day } = civil(key);
  const d = new Date(Date.UTC(year, month - 1, day + n));
  return dayKey({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() });
}

/** Monday = 0 … Sunday = 6 (ISO 8601 weeks, as most calendars outside the US start them). */
function weekdayOf(key: string): number {
  const { year, month, day } = civil(key);
  return (new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7;
}

/**
 * The days of a week (Monday–Sunday) or a month (whole weeks covering it: 4 to 6 rows) around
 * `anchor` (a day key), and the range of instants to ask the function for.
 */
export function calendarGrid(view: CalendarView, anchor: string, timeZone: string, now: Date = new Date()): CalendarGrid {
  const today = dayKeyAt(now, timeZone);
  const a = civil(anchor);
  let first: string;
  let count: number;
  if (view === 'week') {
    first = addDays(anchor, -weekdayOf(anchor));
    count = 7;
  } else {
    const monthStart = dayKey({ year: a.year, month: a.month, day: 1 });
    first = addDays(monthStart, -weekdayOf(monthStart));
    const daysInMonth = new Date(Date.UTC(a.year, a.month, 0)).getUTCDate();
    const monthEnd = dayKey({ year: a.year, month: a.month, day: daysInMonth });
    const last = addDays(monthEnd, 6 - weekdayOf(monthEnd));
    count = Math.round((Date.UTC(...ymd(last)) - Date.UTC(...ymd(first))) / 86_400_000) + 1;
  }
  const days: CalendarDay[] = [];
  for (let i = 0; i < count; i++) {
    const key = addDays(first, i);
    const c = civil(key);
    days.push({ key, ...c, weekday: i % 7, inMonth: view === 'week' || c.month === a.month, isToday: key === today });
  }
  const after = civil(addDays(days[days.length - 1].key, 1));
  return {
    view,
    days,
    from: instantOf({ ...civil(first), hour: 0, minute: 0 }, timeZone),
    to: instantOf({ ...after, hour: 0, minute: 0 }, timeZone),
    anchor,
  };
}

function ymd(key: string): [number, number, number] {
  const { year, month, day } = civil(key);
  return [year, month - 1, day];
}

/** The anchor one step back or forward (a week, or a month keeping the day within the month). */
export function shiftAnchor(view: CalendarView, anchor: string, step: number): string {
  if (view === 'week') return addDays(anchor, 7 * step);
  const { year, month } = civil(anchor);
  const d = new Date(Date.UTC(year, month - 1 + step, 1));
  return dayKey({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: 1 });
}

/** Schedules per day key (in `timeZone`), each day's in time order. */
export function byDay<T extends { publish_at: string }>(items: readonly T[], timeZone: string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of [...items].sort((x, y) => Date.parse(x.publish_at) - Date.parse(y.publish_at))) {
    const key = dayKeyAt(item.publish_at, timeZone);
    const list = map.get(key) ?? [];
    list.push(item);
    map.set(key, list);
  }
  return map;
}

/** "November 2026" or "23 – 29 Nov 2026" for the grid's heading. */
export function gridTitle(grid: CalendarGrid, locale = 'en'): string {
  const utc = (key: string) => new Date(Date.UTC(...ymd(key)));
  if (grid.view === 'month') {
    return new Intl.DateTimeFormat(locale, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(utc(grid.anchor));
  }
  const f = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  return f.formatRange(utc(grid.days[0].key), utc(grid.days[6].key));
}

// ── The schedules function ──────────────────────────────────────────────────────────────────────

export const SCHEDULE_STATUS_LABELS: Record<string, string> = {
  scheduled: 'Scheduled',
  held: 'Held',
  uploading: 'Uploading',
  processing: 'Processing',
  published: 'Published',
  failed: 'Failed',
  canceled: 'Canceled',
};
export const scheduleStatusLabel = (s: string) => SCHEDULE_STATUS_LABELS[s] ?? s;

export const Schedule = z.object({
  id: z.string(),
  workspace_id: z.string(),
  // Null once the channel or the render was deleted; the schedule and its history stay.
  channel_id: z.nullable(z.string()),
  video_job_id: z.nullable(z.string()),
  title: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
  privacy: z.string(),
  publish_at: z.string(),
  time_zone: z.string(),
  strategy: z.string(),
  status: z.string(),
  waiting_reason: z.nullable(z.string()),
  last_error: z.nullable(z.string()),
  attempts: z.number(),
  upload: z.object({ progress: z.number() }),
  youtube: z.nullable(z.object({ video_id: z.string(), url: z.string(), privacy: z.nullable(z.string()) })),
  published_at: z.nullable(z.string()),
  version: z.number(),
});
export type Schedule = z.infer<typeof Schedule>;

const OPEN = new Set(['scheduled', 'held', 'uploading', 'processing']);
const EDITABLE = new Set(['scheduled', 'held']);
// Once YouTube has the whole file (processing) a cancel is too late: the function answers 409.
const CANCELABLE = new Set(['scheduled', 'held', 'uploading']);

export function isOpenSchedule(s: Pick<Schedule, 'status'>): boolean {
  return OPEN.has(s.status);
}

/** The controls one schedule offers: the function's rules (edits only before the upload starts). */
export function scheduleActions(s: Pick<Schedule, 'status'>, role: Role) {
  const editor = roleAtLeast(role, 'editor');
  return {
    edit: editor && EDITABLE.has(s.status),
    reschedule: editor && EDITABLE.has(s.status),
    publishNow: editor && EDITABLE.has(s.status),
    cancel: editor && CANCELABLE.has(s.status),
  };
}

export async function listSchedules(client: FunctionsInvoker, workspaceId: string, from: Date, to: Date) {
  const r = await callFunction(client, 'schedules', {
    query: { workspace_id: workspaceId, from: from.toISOString(), to: to.toISOString(), limit: '500' },
    schema: z.object({ schedules: z.array(Schedule) }),
  });
  return r.schedules;
}

export interface ScheduleDraft {
  workspace_id: string;
  channel_id: string;
  video_job_id: string;
  title: string;
  description: string;
  privacy: PrivacyStatus;
  /** wall clock, "2026-12-01T18:00", in time_zone */
  publish_at: string;
  time_zone: string;
}

export async function createSchedule(client: FunctionsInvoker, draft: ScheduleDraft, idempotencyKey: string) {
  return (
    await callFunction(client, 'schedules', {
      method: 'POST',
      body: { ...draft },
      headers: { 'Idempotency-Key': idempotencyKey },
      schema: z.object({ schedule: Schedule }),
    })
  ).schedule;
}

export type ScheduleChanges = {
  title?: string;
  description?: string;
  privacy?: string;
  version: number;
};

export async function updateSchedule(client: FunctionsInvoker, id: string, changes: ScheduleChanges) {
  return (
    await callFunction(client, `schedules/${segment(id)}`, {
      method: 'PATCH',
      body: updateBody(changes),
      schema: z.object({ schedule: Schedule }),
    })
  ).schedule;
}

/**
 * YouTube publishes at a set time only for videos uploaded private with publishAt, so a schedule
 * that becomes unlisted or private must switch to uploading at publish time; the function
 * refuses the privacy change otherwise.
 */
export function updateBody(changes: ScheduleChanges): ScheduleChanges & { strategy?: 'upload_at_time' } {
  return changes.privacy && changes.privacy !== 'public' ? { ...changes, strategy: 'upload_at_time' } : changes;
}

export async function rescheduleSchedule(client: FunctionsInvoker, id: string, publishAt: string, timeZone: string, version: number) {
  return (
    await callFunction(client, `schedules/${segment(id)}/reschedule`, {
      method: 'POST',
      body: { publish_at: publishAt, time_zone: timeZone, version },
      schema: z.object({ schedule: Schedule }),
    })
  ).schedule;
}

export async function cancelSchedule(client: FunctionsInvoker, id: string) {
  return (
    await callFunction(client, `schedules/${segment(id)}/cancel`, { method: 'POST', body: {}, schema: z.object({ schedule: Schedule }) })
  ).schedule;
}

export async function publishNow(client: FunctionsInvoker, id: string) {
  return (
    await callFunction(client, `schedules/${segment(id)}/publish-now`, {
      method: 'POST',
      body: {},
      schema: z.object({ schedule: Schedule }),
    })
  ).schedule;
}

/** Title rules the function checks (YouTube's): 1–100 characters, no < or >; null when fine. */
export function titleProblem(title: string): string | null {
  if (!title.trim()) return 'Give the video a title.';
  if ([...title].length > MAX_TITLE_CHARS) return `Keep the title to ${MAX_TITLE_CHARS} characters (YouTube’s limit).`;
  if (/[<>]/.test(title)) return 'YouTube refuses < and > in titles.';
  return null;
}
