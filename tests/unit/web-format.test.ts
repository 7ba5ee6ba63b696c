import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatChange,
  formatCompact,
  formatDate,
  formatDateTime,
  formatNumber,
  formatRelative,
  listTimeZones,
  safeLocale,
  timeZoneLabel,
  timeZoneOffset,
} from '../../web/src/lib/format.ts';

test('numbers follow the locale; non-finite values show a dash', () => {
  assert.equal(formatNumber(1234567.5, 'en'), '1,234,567.5');
  assert.equal(formatNumber(1234567.5, 'de'), '1.234.567,5');
  assert.equal(formatNumber(Number.NaN), '—');
  assert.equal(formatCompact(1234, 'en'), '1.2K');
  assert.equal(formatCompact(2_500_000, 'en'), '2.5M');
});

test('change against the previous period is signed; no base means no percentage', () => {
  assert.equal(formatChange(150, 100, 'en'), '+50%');
  assert.equal(formatChange(75, 100, 'en'), '-25%');
  assert.equal(formatChange(100, 100, 'en'), '0%');
  assert.equal(formatChange(10, 0, 'en'), '—');
  assert.equal(formatChange(1001, 1000, 'en'), '+0.1%');
});

test('dates are shown in the profile’s time zone, not the machine’s', () => {
  const instant = '2026-03-01T23:30:00Z';
  assert.equal(formatDate(instant, { locale: 'en-US', timeZone: 'UTC' }), 'Mar 1, 2026');
  assert.equal(formatDate(instant, { locale: 'en-US', timeZone: 'Europe/Berlin' }), 'Mar 2, 2026');
  assert.equal(formatDate(instant, { locale: 'en-US', timeZone: 'America/Los_Angeles' }), 'Mar 1, 2026');
  assert.equal(formatDate('not a date'), '—');
});

test('date-times carry the zone offset, including across a daylight-saving change', () => {
  // Europe/Berlin switches to summer time on 2026-03-29 at 01:00 UTC.
  const before = formatDateTime('2026-03-29T00:30:00Z', { locale: 'en-US', timeZone: 'Europe/Berlin' });
  const after = formatDateTime('2026-03-29T01:30:00Z', { locale: 'en-US', timeZone: 'Europe/Berlin' });
  assert.match(before, /1:30\s?AM GMT\+1/);
  assert.match(after, /3:30\s?AM GMT\+2/);
});

test('relative times against a given clock', () => {
  const now = new Date('2026-06-10T12:00:00Z');
  assert.equal(formatRelative('2026-06-13T12:00:00Z', now, 'en'), 'in 3 days');
  assert.equal(formatRelative('2026-06-10T10:00:00Z', now, 'en'), '2 hours ago');
  assert.equal(formatRelative('2026-06-10T12:00:00Z', now, 'en'), 'now');
  assert.equal(formatRelative('2026-06-09T12:00:00Z', now, 'en'), 'yesterday');
  assert.equal(formatRelative('x', now), '—');
});

test('time-zone labels and the zone list', () => {
  const winter = new Date('2026-01-15T12:00:00Z');
  const summer = new Date('2026-07-15T12:00:00Z');
  assert.equal(timeZoneOffset('Europe/Berlin', winter), 'GMT+1');
  assert.equal(timeZoneOffset('Europe/Berlin', summer), 'GMT+2');
  assert.equal(timeZoneOffset('UTC', winter), 'GMT');
  assert.equal(timeZoneLabel('America/New_York', winter), 'America/New York (GMT-5)');
  const zones = listTimeZones();
  assert.ok(zones.includes('UTC'));
  assert.ok(zones.includes('Europe/Berlin'));
  assert.ok(zones.length > 300);
  assert.deepEqual(
    zones,
    [...zones].sort((a, b) => a.localeCompare(b)),
  );
});

test('unknown or malformed locales fall back to English instead of throwing', () => {
  assert.equal(safeLocale('de-DE'), 'de-DE');
  assert.equal(safeLocale('not a locale!'), 'en');
  assert.equal(safeLocale(null), 'en');
  assert.equal(formatNumber(1000, 'not a locale!'), '1,000');
});
