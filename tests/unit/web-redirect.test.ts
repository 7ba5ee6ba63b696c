import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_AFTER_SIGN_IN, safeNextPath, signInPath } from '../../web/src/lib/redirect.ts';

test('in-app paths with query and hash are kept', () => {
  assert.equal(safeNextPath('/workspace'), '/workspace');
  assert.equal(safeNextPath('/accept?token=abc123'), '/accept?token=abc123');
  assert.equal(safeNextPath('/schedule?view=month#today'), '/schedule?view=month#today');
});

test('anything that could leave the app falls back', () => {
  for (const evil of [
    'https://evil.example/',
    '//evil.example/path',
    '/\\evil.example',
    '\\\\evil.example',
    'javascript:alert(1)',
    '/\t/evil.example',
    '/\n/evil.example',
    'workspace',
    '',
    null,
    undefined,
  ]) {
    assert.equal(safeNextPath(evil), DEFAULT_AFTER_SIGN_IN, `accepted ${JSON.stringify(evil)}`);
  }
});

test('sign-in pages are never a destination (no loops)', () => {
  assert.equal(safeNextPath('/sign-in?next=/x'), DEFAULT_AFTER_SIGN_IN);
  assert.equal(safeNextPath('/sign-up'), DEFAULT_AFTER_SIGN_IN);
  assert.equal(safeNextPath('/sign-in-help'), '/sign-in-help');
});

test('dot segments are resolved before the checks', () => {
  assert.equal(safeNextPath('/a/../workspace'), '/workspace');
  assert.equal(safeNextPath('/x/../sign-in'), DEFAULT_AFTER_SIGN_IN);
});

test('signInPath carries the way back, encoded, and drops the default', () => {
  assert.equal(signInPath('/accept?token=a&b'), '/sign-in?next=%2Faccept%3Ftoken%3Da%26b');
  assert.equal(signInPath('/dashboard'), '/sign-in');
  assert.equal(signInPath(null), '/sign-in');
  assert.equal(signInPath('https://evil.example'), '/sign-in');
  assert.equal(signInPath('/workspace', '/sign-up'), '/sign-up?next=%2Fworkspace');
});
