import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  deleteConfirmationMatches,
  emailError,
  isValidTimeZone,
  passwordError,
  validateInvitation,
  validateProfile,
  validateSignIn,
  validateSignUp,
  validateWorkspaceName,
} from '../../web/src/lib/validation.ts';

test('email: required, Supabase Auth’s format, at most 255 characters', () => {
  assert.equal(emailError('ada@example.com'), null);
  assert.equal(emailError('  ada@example.com  '), null);
  assert.match(emailError('')!, /Enter your email/);
  assert.match(emailError('', 'Enter the address.')!, /Enter the address/);
  assert.match(emailError('ada@')!, /valid email/);
  assert.match(emailError('ada example@x.com')!, /valid email/);
  assert.match(emailError(`${'a'.repeat(250)}@x.com`)!, /255/);
});

test('password: 8 characters at least, 72 bytes at most', () => {
  assert.equal(passwordError('12345678'), null);
  assert.match(passwordError('1234567')!, /at least 8/);
  assert.match(passwordError('')!, /Enter a password/);
  assert.equal(passwordError('a'.repeat(72)), null);
  assert.match(passwordError('a'.repeat(73))!, /72 bytes/);
  // 25 three-byte characters = 75 bytes: too long although only 25 characters.
  assert.match(passwordError('€'.repeat(25))!, /72 bytes/);
});

test('sign-up collects every field error and normalises the value', () => {
  const bad = validateSignUp({ email: 'x', password: 'short', displayName: '  ' });
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.deepEqual(Object.keys(bad.errors).sort(), ['displayName', 'email', 'password']);
  const good = validateSignUp({ email: ' Ada@Example.com ', password: 'correct horse', displayName: ' Ada ' });
  assert.deepEqual(good, { ok: true, value: { email: 'ada@example.com', password: 'correct horse', displayName: 'Ada' } });
});

test('sign-in only needs an address and some password', () => {
  assert.equal(validateSignIn({ email: 'ada@example.com', password: 'x' }).ok, true);
  const bad = validateSignIn({ email: '', password: '' });
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.deepEqual(Object.keys(bad.errors).sort(), ['email', 'password']);
});

test('workspace name: trimmed, 1–100 characters (counted as characters, not UTF-16 units)', () => {
  assert.deepEqual(validateWorkspaceName('  Team  '), { ok: true, value: 'Team' });
  assert.equal(validateWorkspaceName('   ').ok, false);
  assert.equal(validateWorkspaceName('x'.repeat(100)).ok, true);
  assert.equal(validateWorkspaceName('x'.repeat(101)).ok, false);
  assert.equal(validateWorkspaceName('🎬'.repeat(100)).ok, true);
});

test('invitation: address and one of the three roles', () => {
  assert.deepEqual(validateInvitation({ email: 'Bob@Example.com', role: 'editor' }), {
    ok: true,
    value: { email: 'bob@example.com', role: 'editor' },
  });
  const bad = validateInvitation({ email: '', role: 'admin' });
  assert.equal(bad.ok, false);
  if (!bad.ok) {
    assert.match(bad.errors.email!, /address to invite/);
    assert.match(bad.errors.role!, /role/);
  }
});

test('profile: https avatar or none, language tag, known time zone', () => {
  const good = validateProfile({ display_name: ' Ada ', avatar_url: '', locale: 'pt-BR', timezone: 'Europe/Berlin' });
  assert.deepEqual(good, { ok: true, value: { display_name: 'Ada', avatar_url: null, locale: 'pt-BR', timezone: 'Europe/Berlin' } });
  const bad = validateProfile({ display_name: '', avatar_url: 'http://x.test/a.png', locale: 'English', timezone: 'Mars/Olympus' });
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.deepEqual(Object.keys(bad.errors).sort(), ['avatar_url', 'display_name', 'locale', 'timezone']);
  assert.equal(validateProfile({ display_name: 'A', avatar_url: 'https://cdn.test/a.png', locale: 'en', timezone: 'UTC' }).ok, true);
  assert.equal(validateProfile({ display_name: 'A', avatar_url: 'javascript:alert(1)', locale: 'en', timezone: 'UTC' }).ok, false);
});

test('time zones are checked with Intl', () => {
  assert.equal(isValidTimeZone('America/New_York'), true);
  assert.equal(isValidTimeZone('UTC'), true);
  assert.equal(isValidTimeZone('Nowhere/City'), false);
  assert.equal(isValidTimeZone(''), false);
  assert.equal(isValidTimeZone(' UTC'), false);
});

test('account deletion needs the word DELETE typed exactly', () => {
  assert.equal(deleteConfirmationMatches('DELETE'), true);
  assert.equal(deleteConfirmationMatches(' DELETE '), true);
  assert.equal(deleteConfirmationMatches('delete'), false);
  assert.equal(deleteConfirmationMatches(''), false);
});
