import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  changeDirection,
  formatDecimal,
  formatMs,
  formatPercent,
  formatRatioAsPercent,
  formatSignedPercent,
  formatVideoDuration,
  formatWatchHours,
} from '../../web/src/lib/metric-format.ts';

// ICU puts narrow no-break spaces into some formats; compare with plain spaces.
const plain = (s: string) => s.replace(/\s+/g, ' ');

test('a change in percent is signed, in the locale, and absent when there was nothing before', () => {
  assert.equal(formatSignedPercent(11.2, 'en'), '+11.2%');
  assert.equal(formatSignedPercent(-3.4, 'en'), '-3.4%');
  assert.equal(formatSignedPercent(0, 'en'), '0%');
  assert.equal(plain(formatSignedPercent(11.2, 'de')), '+11,2 %');
  assert.equal(formatSignedPercent(null), '—');
  assert.equal(formatSignedPercent(Number.NaN), '—');
});

test('direction of a change', () => {
  assert.equal(changeDirection(5), 'up');
  assert.equal(changeDirection(-0.1), 'down');
  assert.equal(changeDirection(0), 'flat');
  assert.equal(changeDirection(null), 'none');
  assert.equal(changeDirection(undefined), 'none');
});

test('percent values and ratios', () => {
  assert.equal(formatPercent(64.8667, 'en'), '64.9%');
  assert.equal(formatPercent(98.29, 'en', 0), '98%');
  assert.equal(formatPercent(null), '—');
  assert.equal(formatRatioAsPercent(0.0482, 'en'), '4.8%');
  assert.equal(formatRatioAsPercent(0.053475, 'en', 2), '5.35%');
  assert.equal(formatDecimal(1960.0714, 'en', 0), '1,960');
  assert.equal(formatDecimal(14.4941, 'de', 1), '14,5');
});

test('video durations read like a player shows them', () => {
  assert.equal(formatVideoDuration(25), '0:25');
  assert.equal(formatVideoDuration(245), '4:05');
  assert.equal(formatVideoDuration(3723), '1:02:03');
  assert.equal(formatVideoDuration(null), '—');
  assert.equal(formatVideoDuration(-1), '—');
});

test('watch minutes become hours; response times ms or s', () => {
  assert.equal(formatWatchHours(276320, 'en'), '4,605h');
  assert.equal(formatWatchHours(276320, 'de'), '4.605h');
  assert.equal(formatWatchHours(90, 'en'), '1.5h');
  assert.equal(formatWatchHours(null), '—');
  assert.equal(formatMs(938, 'en'), '938 ms');
  assert.equal(plain(formatMs(1530, 'en')), '1.53 sec');
  assert.equal(formatMs(null), '—');
});
