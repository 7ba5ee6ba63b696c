// Day arithmetic for the fake YouTube. Days are numbered from the Unix epoch in UTC.
// Assumption: YouTube Analytics reports days in Pacific time; the fake uses UTC days, which only
// shifts day boundaries by a few hours and keeps the arithmetic trivial.

export const DAY_MS = 86_400_000;

export function dayNumber(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

export function dayKey(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** `YYYY-MM-DD` → day number, or undefined when it is not a real calendar date. */
export function parseDayKey(s: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return undefined;
  const ms = Date.parse(`${s}T00:00:00Z`);
  if (Number.isNaN(ms) || dayKey(dayNumber(ms)) !== s) return undefined;
  return dayNumber(ms);
}

/** Google's timestamps carry no milliseconds: 2024-05-01T15:00:04Z. */
export function googleTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const PACIFIC_DAY = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'America/Los_Angeles',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** YouTube's quota day: it resets at midnight Pacific time. */
export function pacificDayKey(ms: number): string {
  return PACIFIC_DAY.format(new Date(ms));
}
