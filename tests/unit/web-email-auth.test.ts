// The web app's handling of Auth's email links: what it accepts from the fragment, where the
// emails send people back to, and where a verified link leads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterConfirm, confirmRedirect, linkFromHash } from '../../web/src/lib/email-auth.ts';
import { safeNextPath } from '../../web/src/lib/redirect.ts';

const HASH = 'a'.repeat(56);

test('a link token is read from the fragment, and only a well-formed one', () => {
  assert.deepEqual(linkFromHash(`#token_hash=${HASH}&type=signup`), { tokenHash: HASH, type: 'signup' });
  assert.deepEqual(linkFromHash(`#token_hash=${HASH}&type=email_change`), { tokenHash: HASH, type: 'email_change' });
  for (const bad of [
    '',
    '#',
    `#token_hash=${HASH}`,
    `#token_hash=${HASH}&type=sms`,
    '#token_hash=xyz&type=signup',
    `#token_hash=${HASH}<script>&type=signup`,
  ]) {
    assert.equal(linkFromHash(bad), null, bad);
  }
});

test('emails come back to the confirm page of this origin, carrying only a safe next path', () => {
  assert.equal(confirmRedirect('https://app.example.com'), 'https://app.example.com/auth/confirm');
  assert.equal(
    confirmRedirect('https://app.example.com', '/accept?token=abc'),
    'https://app.example.com/auth/confirm?next=%2Faccept%3Ftoken%3Dabc',
  );
  for (const evil of ['https://evil.example/', '//evil.example', '/sign-in', '/auth/confirm']) {
    assert.equal(confirmRedirect('https://app.example.com', evil), 'https://app.example.com/auth/confirm', evil);
  }
});

test('a verified link leads to a new password after recovery or an invitation, else to next', () => {
  assert.equal(afterConfirm('recovery', '/dashboard'), '/reset-password');
  assert.equal(afterConfirm('invite', null), '/reset-password');
  assert.equal(afterConfirm('signup', '/accept?token=abc'), '/accept?token=abc');
  assert.equal(afterConfirm('magiclink', 'https://evil.example'), '/dashboard');
  assert.equal(safeNextPath('/reset-password'), '/dashboard', 'never back to an auth page through next');
});
