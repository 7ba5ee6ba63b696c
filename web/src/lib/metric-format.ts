// Numbers of the dashboards as people read them: signed changes, percentages, durations and
// response times, in the user's locale. Every function accepts missing values, because the API
// answers null where there is nothing to compare with (no earlier period, no calls yet).
import { safeLocale } from './format.ts';

export type Direction = 'up' | 'down' | 'flat' | 'none';

/** 11.2 → "+11.2%", -3.4 → "-3.4%", 0 → "0%", null → "—" (the API's change_pct is in percent). */
export function formatSignedPercent(pct: number | null | undefined, locale = 'en'): string {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return '—';
  return new Intl.NumberFormat(safeLocale(locale), { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(
    pct / 100,
  );
}

export function changeDirection(pct: number | null | undefined): Direction {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return 'none';
  if (pct > 0) return 'up';
  if (pct < 0) return 'down';
  return 'flat';
}

/** A value already in percent: 64.8667 → "64.9%". */
export function formatPercent(value: number | null | undefined, locale = 'en', maxDigits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return new Intl.NumberFormat(safeLocale(locale), { style: 'percent', maximumFractionDigits: maxDigits }).format(value / 100);
}

/** A ratio: 0.0482 → "4.8%". */
export function formatRatioAsPercent(ratio: number | null | undefined, locale = 'en', maxDigits = 1): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '—';
  return formatPercent(ratio * 100, locale, maxDigits);
}

export function formatDecimal(value: number | null | undefined, locale = 'en', maxDigits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return new Intl.NumberFormat(safeLocale(locale), { maximumFractionDigits: maxDigits }).format(value);
}

/** Video length: 25 → "0:25", 245 → "4:05", 3723 → "1:02:03". */
export function formatVideoDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** Watch time arrives in minutes; people think of it in hours: 276320 → "4,605 h". */
export function formatWatchHours(minutes: number | null | undefined, locale = 'en'): string {
  if (minutes === null || minutes === undefined || !Number.isFinite(minutes)) return '—';
  const hours = minutes / 60;
  return new Intl.NumberFormat(safeLocale(locale), {
    style: 'unit',
    unit: 'hour',
    unitDisplay: 'narrow',
    maximumFractionDigits: hours < 10 ? 1 : 0,
  }).format(hours);
}

/** Response times: 938 → "938 ms", 1530 → "1.53 s". */
export function formatMs(ms: number | null | undefined, locale = 'en'): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const loc = safeLocale(locale);
  if (Math.abs(ms) < 1000) {
    return new Intl.NumberFormat(loc, { style: 'unit', unit: 'millisecond', unitDisplay: 'short', maximumFractionDigits: 0 }).format(ms);
  }
  return new Intl.NumberFormat(loc, { style: 'unit', unit: 'second', unitDisplay: 'short', maximumFractionDigits: 2 }).format(ms / 1000);
}
