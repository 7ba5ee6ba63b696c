// Numbers, dates and time zones as the user reads them: in their locale and in the time zone of
// their profile (not the browser's), because a creator schedules for their audience's clock.

export interface DisplayPrefs {
  locale: string;
  timeZone: string;
}

export const DEFAULT_PREFS: DisplayPrefs = { locale: 'en', timeZone: 'UTC' };

function toDate(value: Date | string | number): Date | null {
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A locale Intl accepts; an unknown tag falls back to English instead of throwing. */
export function safeLocale(locale: string | null | undefined): string {
  if (!locale) return DEFAULT_PREFS.locale;
  try {
    return Intl.getCanonicalLocales(locale)[0] ?? DEFAULT_PREFS.locale;
  } catch {
    return DEFAULT_PREFS.locale;
  }
}

export function formatNumber(value: number, locale = DEFAULT_PREFS.locale): string {
  if (!Number.isFinite(value)) return '—';
  return new Intl.NumberFormat(safeLocale(locale)).format(value);
}

/** 1234 → "1.2K", 2_500_000 → "2.5M" (for cards where space is short). */
export function formatCompact(value: number, locale = DEFAULT_PREFS.locale): string {
  if (!Number.isFinite(value)) return '—';
  return new Intl.NumberFormat(safeLocale(locale), { notation: 'compact', maximumFractionDigits: 1 }).format(value);
}

/** Change of `current` against `previous` as a signed percentage; "—" when there is no base. */
export function formatChange(current: number, previous: number, locale = DEFAULT_PREFS.locale): string {
  if (!Number.isFinite(current) || !Number.isFinite(previous) || previous === 0) return '—';
  const ratio = (current - previous) / Math.abs(previous);
  return new Intl.NumberFormat(safeLocale(locale), {
    style: 'percent',
    maximumFractionDigits: 1,
    signDisplay: 'exceptZero',
  }).format(ratio);
}

export function formatDate(value: Date | string | number, prefs: DisplayPrefs = DEFAULT_PREFS): string {
  const d = toDate(value);
  if (!d) return '—';
  return new Intl.DateTimeFormat(safeLocale(prefs.locale), { dateStyle: 'medium', timeZone: prefs.timeZone }).format(d);
}

/** Date and time in the user's zone, with the zone's offset so a reader never has to guess. */
export function formatDateTime(value: Date | string | number, prefs: DisplayPrefs = DEFAULT_PREFS): string {
  const d = toDate(value);
  if (!d) return '—';
  return new Intl.DateTimeFormat(safeLocale(prefs.locale), {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
    timeZone: prefs.timeZone,
    timeZoneName: 'shortOffset',
  }).format(d);
}

const RELATIVE_UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/** "in 3 days", "2 hours ago", "now"; `now` is a parameter so callers and tests share one clock. */
export function formatRelative(value: Date | string | number, now: Date = new Date(), locale = DEFAULT_PREFS.locale): string {
  const d = toDate(value);
  if (!d) return '—';
  const seconds = Math.round((d.getTime() - now.getTime()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(safeLocale(locale), { numeric: 'auto' });
  for (const [unit, size] of RELATIVE_UNITS) {
    if (Math.abs(seconds) >= size || unit === 'second') {
      return rtf.format(Math.round(seconds / size), unit);
    }
  }
  return rtf.format(0, 'second');
}

/** The offset of a zone at an instant, e.g. "GMT+1" for Europe/Berlin in winter, "GMT" for UTC. */
export function timeZoneOffset(timeZone: string, at: Date = new Date()): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'shortOffset' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName');
  // ICU versions differ on zero offsets ("GMT" or "GMT+0"); show one form everywhere.
  const value = part?.value ?? 'GMT';
  return /^(GMT|UTC)[+-]0$/.test(value) ? 'GMT' : value;
}

/** "Europe/Berlin (GMT+1)", for time-zone pickers and for labels next to times. */
export function timeZoneLabel(timeZone: string, at: Date = new Date()): string {
  return `${timeZone.replaceAll('_', ' ')} (${timeZoneOffset(timeZone, at)})`;
}

/** Every zone this browser knows (UTC always included), sorted. */
export function listTimeZones(): string[] {
  const supported = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const zones = new Set<string>(supported);
  zones.add('UTC');
  return [...zones].sort((a, b) => a.localeCompare(b));
}

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}
