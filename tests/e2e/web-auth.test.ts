// Browser smoke test of the web app against a running stack: sign up through the UI, land in the
// app with the personal workspace selected, sign out, sign in again, and come back to the page
// that asked for sign-in. Needs SUPABASE_URL and SUPABASE_ANON_KEY; WEB_URL is the served SPA
// (when it is not set the test serves web/build itself). Screenshots go to tests/e2e/screenshots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from '../../web/node_modules/playwright-core/index.js';
import { confirmSignUpFromInbox } from './inbox.ts';
import { openPage, pageErrors, person, shot, submitSignUp, useWebSuite, webUrl } from './web-suite.ts';

useWebSuite();

const newPage = (viewport = { width: 1280, height: 800 }) => openPage({ viewport, timeoutMs: 15_000 });

const path = (page: Page) => new URL(page.url()).pathname + new URL(page.url()).search;

test('sign up, land in the app with the personal workspace, sign out, sign in again', { timeout: 180_000 }, async () => {
  const page = await newPage();
  const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const email = `e2e-${suffix}@example.com`;
  const password = `pw-${suffix}-long`;
  const name = `E2E ${suffix}`;

  // A signed-out visit to an app page goes to sign-in and remembers the way back.
  await page.goto(`${webUrl}/workspace`);
  await page.waitForURL((u) => u.pathname === '/sign-in');
  assert.equal(path(page), '/sign-in?next=%2Fworkspace');
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await shot(page, '01-sign-in');

  // Validation runs before any request.
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Enter your email address.').waitFor();

  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.waitForURL((u) => u.pathname === '/sign-up');
  assert.equal(path(page), '/sign-up?next=%2Fworkspace');
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByText('Use at least 8 characters.').waitFor();
  await shot(page, '02-sign-up-validation');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  // Confirmations are on: no session until the link from the email is opened.
  await page.getByTestId('check-inbox').waitFor();
  await shot(page, '02b-sign-up-check-inbox');
  await confirmSignUpFromInbox(page, email);

  // Back where the sign-in was asked for, inside the app shell.
  await page.waitForURL((u) => u.pathname === '/workspace');
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  const switcher = page.getByLabel('Workspace', { exact: true });
  await switcher.waitFor();
  const selected = await switcher.evaluate((el) => (el as HTMLSelectElement).selectedOptions[0]?.textContent ?? '');
  assert.equal(selected, `${name}'s workspace`);
  assert.equal((await page.locator('#workspace-switcher-caption').textContent())?.trim(), 'Personal · Owner');
  await page.getByRole('heading', { name: `${name}'s workspace` }).waitFor();
  await page.getByRole('heading', { name: 'Members' }).waitFor();
  await page.getByRole('cell', { name: new RegExp(`${name}.*You`) }).waitFor();
  await shot(page, '03-workspace');

  // Keyboard users reach the skip link first.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Skip to content');

  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.waitForURL((u) => u.pathname === '/dashboard');
  await page.getByText('Nothing to show yet').waitFor();
  await shot(page, '04-dashboard-empty');

  await page.getByRole('link', { name: 'Account' }).click();
  await page.getByRole('heading', { name: 'Profile' }).waitFor();
  await page.getByLabel('Display name').waitFor();
  assert.equal(await page.getByLabel('Display name').inputValue(), name);
  await shot(page, '05-account');

  // The session survives a reload.
  await page.reload();
  await page.getByRole('heading', { name: 'Account', exact: true }).waitFor();

  // Sign out on purpose: to sign-in without a way back.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.pathname === '/sign-in');
  assert.equal(path(page), '/sign-in');

  // A wrong password shows the API's message.
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'Sign-in failed' });
  await alert.waitFor();
  assert.match((await alert.textContent()) ?? '', /invalid/i);
  await shot(page, '06-sign-in-error');

  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/dashboard');
  const again = await page
    .getByLabel('Workspace', { exact: true })
    .evaluate((el) => (el as HTMLSelectElement).selectedOptions[0]?.textContent ?? '');
  assert.equal(again, `${name}'s workspace`);

  // Signed out in the app, a deep link comes back after sign-in.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.pathname === '/sign-in');
  await page.goto(`${webUrl}/account`);
  await page.waitForURL((u) => u.pathname === '/sign-in' && u.search === '?next=%2Faccount');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/account');
  await page.getByRole('heading', { name: 'Profile' }).waitFor();

  await page.context().close();
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
});

test('the app shell works on a phone-sized screen', { timeout: 120_000 }, async () => {
  const page = await newPage({ width: 390, height: 844 });
  await page.goto(`${webUrl}/sign-up`);
  const suffix = `${Date.now().toString(36)}m${Math.random().toString(36).slice(2, 6)}`;
  await page.getByLabel('Your name').fill(`Mobile ${suffix}`);
  await page.getByLabel('Email').fill(`e2e-${suffix}@example.com`);
  await page.getByLabel('Password').fill(`pw-${suffix}-long`);
  await page.getByRole('button', { name: 'Create account' }).click();
  await confirmSignUpFromInbox(page, `e2e-${suffix}@example.com`);
  await page.waitForURL((u) => u.pathname === '/dashboard');

  // The navigation is behind the menu button, which says whether it is open.
  const menu = page.getByRole('button', { name: 'Menu' });
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.getByRole('navigation', { name: 'Main' }).isVisible(), false);
  await shot(page, '07-mobile-dashboard');
  await menu.click();
  assert.equal(await menu.getAttribute('aria-expanded'), 'true');
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  await shot(page, '08-mobile-menu');
  await page.getByRole('link', { name: 'Workspace' }).click();
  await page.waitForURL((u) => u.pathname === '/workspace');
  assert.equal(await menu.getAttribute('aria-expanded'), 'false');
  await page.context().close();
  assert.deepEqual(pageErrors, []);
});

test(
  'an owner creates a workspace and invites a teammate, who joins through the link and gets no owner controls',
  { timeout: 180_000 },
  async () => {
    const owner = person('own');
    const teammate = person('mate');
    const team = `Team ${owner.name.split(' ')[1]}`;

    const a = await newPage();
    await a.goto(`${webUrl}/sign-up`);
    await submitSignUp(a, owner);
    await a.waitForURL((u) => u.pathname === '/dashboard');

    await a.getByRole('button', { name: 'New workspace' }).click();
    const dialog = a.getByRole('dialog', { name: 'New workspace' });
    await dialog.getByLabel('Name').fill(team);
    await dialog.getByRole('button', { name: 'Create workspace' }).click();
    await a.waitForURL((u) => u.pathname === '/workspace');
    await a.getByRole('heading', { name: team, exact: true }).waitFor();
    assert.equal((await a.locator('#workspace-switcher-caption').textContent())?.trim(), 'Owner');

    await a.getByLabel('Email to invite').fill(teammate.email);
    await a.getByLabel('Role', { exact: true }).selectOption('viewer');
    await a.getByRole('button', { name: 'Create invitation' }).click();
    const link = a.locator('#accept-url');
    await link.waitFor();
    const acceptUrl = await link.inputValue();
    assert.match(acceptUrl, /\/accept\?token=[\w-]{20,}/);
    await a.getByRole('cell', { name: teammate.email, exact: true }).waitFor();
    await shot(a, '10-owner-invited');

    // The teammate opens the link signed out: sign-in first (here: sign-up), then back to accept.
    const b = await newPage();
    await b.goto(`${webUrl}${new URL(acceptUrl).pathname}${new URL(acceptUrl).search}`);
    await b.waitForURL((u) => u.pathname === '/sign-in');
    await b.getByRole('link', { name: 'Create an account' }).click();
    await submitSignUp(b, teammate);
    await b.waitForURL((u) => u.pathname === '/accept');
    await b.getByRole('button', { name: 'Accept invitation' }).click();
    await b.getByRole('heading', { name: `You joined ${team}` }).waitFor();
    await b.getByRole('link', { name: 'Open the workspace' }).click();
    await b.getByRole('heading', { name: team, exact: true }).waitFor();
    await b.getByRole('cell', { name: new RegExp(owner.name) }).waitFor();

    // A viewer is offered none of the owner's controls, only leaving.
    assert.equal(await b.getByRole('heading', { name: 'Invitations' }).count(), 0);
    assert.equal(await b.getByLabel('Workspace name').count(), 0);
    assert.equal(await b.getByRole('button', { name: /^Remove / }).count(), 0);
    assert.equal(await b.getByRole('combobox', { name: /^Role of / }).count(), 0);
    await b.getByRole('button', { name: 'Leave workspace' }).waitFor();
    await shot(b, '11-viewer-workspace');

    // The owner sees the teammate, promotes them, and the invitation is used up.
    await a.reload();
    await a.getByRole('heading', { name: team, exact: true }).waitFor();
    const roleOfTeammate = a.getByRole('combobox', { name: `Role of ${teammate.name}` });
    const reloaded = a.waitForResponse((r) => r.url().includes('/functions/v1/members?') && r.request().method() === 'GET');
    await roleOfTeammate.selectOption('editor');
    await reloaded;
    assert.equal(await roleOfTeammate.inputValue(), 'editor');
    const row = a.getByRole('row').filter({ hasText: teammate.email });
    await row.getByText('Accepted').waitFor();
    assert.equal(await row.getByRole('button', { name: /Revoke/ }).count(), 0);

    // Renaming shows at once in the switcher.
    await a.getByLabel('Workspace name').fill(`${team} (renamed)`);
    await a.getByRole('button', { name: 'Save name' }).click();
    await a.getByText('Saved.').waitFor();
    const option = await a
      .getByLabel('Workspace', { exact: true })
      .evaluate((el) => (el as HTMLSelectElement).selectedOptions[0]?.textContent ?? '');
    assert.equal(option, `${team} (renamed)`);
    await shot(a, '12-owner-after-accept');

    await a.context().close();
    await b.context().close();
    assert.deepEqual(pageErrors, []);
  },
);

test('account: profile time zone, data export, and deletion with a typed confirmation', { timeout: 120_000 }, async () => {
  const me = person('acct');
  const page = await newPage();
  await page.goto(`${webUrl}/sign-up?next=%2Faccount`);
  await submitSignUp(page, me);
  await page.waitForURL((u) => u.pathname === '/account');
  await page.getByLabel('Display name').waitFor();

  // A wrong field is explained next to it, before any request.
  await page.getByLabel('Avatar URL').fill('http://not-https.example/a.png');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await page.getByText('Use an https:// address, or leave it empty.').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('type')), 'url', 'focus moves to the field to fix');

  await page.getByLabel('Avatar URL').fill('');
  await page.getByLabel('Time zone').selectOption('America/New_York');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await page.getByText('Profile saved.').waitFor();
  await page.reload();
  await page.getByLabel('Display name').waitFor();
  assert.equal(await page.getByLabel('Time zone').inputValue(), 'America/New_York');

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download export' }).click();
  const file = await download;
  assert.match(file.suggestedFilename(), /^content-catalyst-export-\d{4}-\d{2}-\d{2}\.json$/);
  const exported = JSON.parse(await streamText(await file.createReadStream()));
  assert.ok(
    JSON.stringify(exported).includes(me.email) || JSON.stringify(exported).includes(me.name),
    'the export holds the user’s own data',
  );

  const deleteButton = page.getByRole('button', { name: 'Delete my account' });
  assert.equal(await deleteButton.isDisabled(), true);
  await page.getByLabel('Type DELETE to confirm').fill('delete');
  assert.equal(await deleteButton.isDisabled(), true);
  await page.getByLabel('Type DELETE to confirm').fill('DELETE');
  await shot(page, '13-account-delete');
  await deleteButton.click();
  await page.waitForURL((u) => u.pathname === '/sign-in');
  await page.getByText('Your account and its data were deleted.').waitFor();

  await page.getByLabel('Email').fill(me.email);
  await page.getByLabel('Password').fill(me.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Sign-in failed' }).waitFor();
  await page.context().close();
  assert.deepEqual(pageErrors, []);
});

async function streamText(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
