// Browser tests of the email flows against the stack, with the local mail catcher as everyone's
// inbox: sign-up → confirmation email → the link signs in; forgot password → email → the new
// password works and the old one does not; a magic-link code; an email change confirmed from
// both addresses. Screenshots go to tests/e2e/screenshots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from '../../web/node_modules/playwright-core/index.js';
import { createConfirmedUser } from '../unit/helpers/auth-users.ts';
import { authLink, waitForMail } from './inbox.ts';
import {
  openPage,
  pageErrors,
  person as newPerson,
  recordPageErrors,
  shot,
  stackAuth,
  submitSignIn,
  useWebSuite,
  webUrl,
} from './web-suite.ts';

useWebSuite({ env: ['LOCAL_MAIL_URL'] });

const newPage = () => openPage({ timeoutMs: 20_000 });

const person = (tag: string) => newPerson(tag, 'mail');

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.pathname === '/sign-in');
}

test('sign up → the confirmation email arrives in the local inbox → its link confirms and signs in', { timeout: 120_000 }, async () => {
  const me = person('signup');
  const page = await newPage();
  await page.goto(`${webUrl}/sign-up`);
  await page.getByLabel('Your name').fill(me.name);
  await page.getByLabel('Email').fill(me.email);
  await page.getByLabel('Password').fill(me.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByTestId('check-inbox').getByText(me.email).waitFor();
  await shot(page, '30-check-inbox');

  // Before confirming, the password does not sign in.
  const other = await newPage();
  await submitSignIn(other, me);
  await other.getByText('Email not confirmed').waitFor();
  await other.context().close();

  // Resending at once is refused by Auth's per-user interval, and the page says why.
  await page.getByRole('button', { name: 'Send it again' }).click();
  await page.getByText(/For security purposes, you can only request this after \d+ seconds/).waitFor();
  await shot(page, '31-resend-rate-limited');

  const mail = await waitForMail(me.email, /^Confirm your email address$/);
  assert.match(mail.html, /Confirm my email address/);
  const link = authLink(mail);
  assert.ok(link.startsWith(`${new URL(webUrl).origin}/auth/confirm`), link);

  // The inbox page lists it (what a developer opens from the start banner).
  const inbox = await newPage();
  await inbox.goto(`${process.env.LOCAL_MAIL_URL}/?to=${encodeURIComponent(me.email)}`);
  await inbox.getByRole('link', { name: 'Confirm your email address' }).click();
  await inbox.getByRole('heading', { name: 'Confirm your email address' }).waitFor();
  await shot(inbox, '32-local-inbox-message');
  await inbox.context().close();

  await page.goto(link);
  await page.waitForURL((u) => u.pathname === '/dashboard');
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  await shot(page, '33-confirmed-dashboard');

  // The link works once.
  const again = await newPage();
  await again.goto(link);
  await again.getByRole('heading', { name: 'This link does not work' }).waitFor();
  await shot(again, '34-link-used');
  await again.context().close();
  await page.context().close();
  assert.deepEqual(pageErrors, []);
});

test('forgot password → email → the new password works and the old one does not', { timeout: 120_000 }, async () => {
  const me = person('reset');
  await createConfirmedUser(stackAuth(), me.email, me.password, { display_name: me.name });
  const page = await newPage();
  await page.goto(`${webUrl}/sign-in`);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.waitForURL((u) => u.pathname === '/forgot-password');
  await page.getByLabel('Email').fill(me.email);
  await shot(page, '40-forgot-password');
  await page.getByRole('button', { name: 'Email me a reset link' }).click();
  await page.getByTestId('check-inbox').waitFor();
  await shot(page, '41-forgot-password-sent');

  const mail = await waitForMail(me.email, /^Reset your password$/);
  await page.goto(authLink(mail));
  await page.waitForURL((u) => u.pathname === '/reset-password');
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  const newPassword = `${me.password}-new`;
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByLabel('Repeat the new password').fill(`${newPassword}x`);
  await page.getByRole('button', { name: 'Save the new password' }).click();
  await page.getByText('The two passwords differ.').waitFor();
  await page.getByLabel('Repeat the new password').fill(newPassword);
  await shot(page, '42-reset-password');
  await page.getByRole('button', { name: 'Save the new password' }).click();
  await page.waitForURL((u) => u.pathname === '/dashboard');
  await signOut(page);

  await submitSignIn(page, me);
  await page.getByText('Invalid login credentials').waitFor();
  await shot(page, '43-old-password-refused');
  await page.getByLabel('Password').fill(newPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/dashboard');
  await page.context().close();
  assert.deepEqual(pageErrors, []);
});

test('sign in with the code from a magic-link email', { timeout: 90_000 }, async () => {
  const me = person('magic');
  await createConfirmedUser(stackAuth(), me.email, me.password);
  const page = await newPage();
  await page.goto(`${webUrl}/sign-in`);
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await page.getByLabel('Email').fill(me.email);
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await page.getByTestId('check-inbox').waitFor();
  const mail = await waitForMail(me.email, /^Your sign-in link$/);
  const code = /code[^:]*: (\d{6})/.exec(mail.text)?.[1];
  assert.ok(code, mail.text);
  await page.getByLabel('Or enter the code from the email').fill(code);
  await shot(page, '50-magic-link-code');
  await page.getByRole('button', { name: 'Sign in with the code' }).click();
  await page.waitForURL((u) => u.pathname === '/dashboard');
  await page.context().close();
  assert.deepEqual(pageErrors, []);
});

test('change email in account settings: confirmed from both addresses', { timeout: 120_000 }, async () => {
  const me = person('change');
  await createConfirmedUser(stackAuth(), me.email, me.password, { display_name: me.name });
  const newEmail = person('changed').email;
  const page = await newPage();
  await submitSignIn(page, me);
  await page.waitForURL((u) => u.pathname === '/dashboard');
  await page.goto(`${webUrl}/account`);
  await page.getByLabel('New email address').fill(newEmail);
  await page.getByRole('button', { name: 'Change email address' }).click();
  await page.getByText(/We sent a confirmation link to/).waitFor();
  await shot(page, '60-change-email-sent');

  await page.goto(authLink(await waitForMail(me.email, /^Confirm your new email address$/)));
  await page.getByRole('heading', { name: 'One more step' }).waitFor();
  await shot(page, '61-change-email-half');
  // The second email opened in another tab, as a mail client would.
  const tab = await page.context().newPage();
  recordPageErrors(tab);
  await tab.goto(authLink(await waitForMail(newEmail, /^Confirm your new email address$/)));
  await tab.waitForURL((u) => u.pathname === '/account');
  await tab.getByText(`You sign in and receive notices at ${newEmail}`).waitFor();
  await shot(tab, '62-change-email-done');
  await signOut(tab);
  await submitSignIn(tab, { email: newEmail, password: me.password });
  await tab.waitForURL((u) => u.pathname === '/dashboard');
  await page.context().close();
  assert.deepEqual(pageErrors, []);
});
