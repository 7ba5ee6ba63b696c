import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDenoTest, parseNodeTap, parseTap, summaryLine } from '../summary.ts';

test('node TAP counts include cancelled as failures and todo as skipped', () => {
  const out = '# tests 9\n# suites 0\n# pass 6\n# fail 1\n# cancelled 1\n# skipped 1\n# todo 0\n';
  assert.deepEqual(parseNodeTap(out), { passed: 6, failed: 2, skipped: 1 });
  assert.equal(parseNodeTap('no summary here'), null);
});

test('deno test closing line, passing and failing', () => {
  assert.deepEqual(parseDenoTest('...\nok | 12 passed | 0 failed | 2 ignored (3s)\n'), { passed: 12, failed: 0, skipped: 2 });
  assert.deepEqual(parseDenoTest('\x1b[31mFAILED\x1b[0m | 3 passed (2 steps) | 1 failed (1s)'), { passed: 3, failed: 1, skipped: 0 });
  assert.equal(parseDenoTest('error: Module not found'), null);
});

test('pgTAP assertion lines, indented or not, with skips', () => {
  const out = 'tests/db/a.test.sql ..\n1..3\nok 1 - a\nnot ok 2 - b\n    ok 3 - c # SKIP no reason\n';
  assert.deepEqual(parseTap(out), { passed: 1, failed: 1, skipped: 1 });
});

test('summary line shape', () => {
  assert.equal(summaryLine({ passed: 3, failed: 0, skipped: 0 }), '3 passed, 0 failed');
  assert.equal(summaryLine({ passed: 3, failed: 1, skipped: 2 }), '3 passed, 1 failed, 2 skipped');
});
