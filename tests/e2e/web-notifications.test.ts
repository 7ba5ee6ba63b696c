// Browser tests of email notifications against a running stack: the notification settings page
// (per-category toggles that stay saved), and an invitation sent by email: the invitee opens the
// link from the email in the local mail catcher, signs in and accepts. The unsubscribe page
// works signed out. Screenshots go to tests/e2e/screenshots/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConfirmedUser } from '../unit/helpers/auth-users.ts';
import {
  callFunction as api,
  openPage,
  requiredEnv,
  shot,
  stackAuth,
  submitSignIn as signIn,
  supabaseUrl,
  trimSlashes,
  useWebSuite,
  webUrl,
} from './web-suite.ts';

useWebSuite({ assertNoPageErrors: true });

const newPage = () => openPage({ timeoutMs: 15_000 });

interface Account {
  id: string;
  email: string;
  password: string;
  token: string;
}

/** A confirmed account (Auth requires email confirmation), created through the admin API. */
async function signUpByApi(label: string): Promise<Account> {
  const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const email = `e2e-${label}-${suffix}@example.com`;
  const password = `pw-${suffix}-long`;
  const user = await createConfirmedUser(stackAuth(), email, password, { display_name: `E2E ${label}` });
  return { id: user.id, email, password, token: user.accessToken };
}

/** The email to `address` in the local mail catcher, the worker called as pg_cron would until it is there. */
async function emailTo(address: string): Promise<{ subject: string; text: string }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${trimSlashes(requiredEnv('LOCAL_MAIL_URL'))}/api/messages?to=${encodeURIComponent(address)}`);
    const messages = await res.json();
    if (messages.length > 0) return messages[0];
    assert.ok(Date.now() < deadline, `no email arrived for ${address}`);
    await fetch(`${supabaseUrl}/functions/v1/notifications/worker`, {
      method: 'POST',
      headers: { authorization: `Bearer ${requiredEnv('SUPABASE_SERVICE_ROLE_KEY')}`, 'content-type': 'application/json' },
      body: '{}',
    }).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 300));
  }
}

test('notification settings: every category is a labelled checkbox, and a change stays saved', { timeout: 120_000 }, async () => {
  const me = await signUpByApi('prefs');
  const page = await newPage();
  await signIn(page, me, '/account');
  await page.getByRole('heading', { name: 'Notifications' }).waitFor();
  await page.getByRole('link', { name: 'Choose which emails you get' }).click();
  await page.waitForURL((u) => u.pathname === '/account/notifications');
  await page.getByRole('heading', { name: 'Notification settings' }).waitFor();
  const published = page.getByRole('checkbox', { name: 'Upload published' });
  await published.waitFor();
  assert.equal(await published.isChecked(), true, 'on by default');
  await shot(page, '30-notification-settings');

  await published.uncheck();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  await page.reload();
  await page.getByRole('checkbox', { name: 'Upload published' }).waitFor();
  assert.equal(await page.getByRole('checkbox', { name: 'Upload published' }).isChecked(), false, 'still off after a reload');
  assert.equal(await page.getByRole('checkbox', { name: 'Render finished' }).isChecked(), true);
  const stored = await api(me.token, 'notifications/preferences');
  assert.equal(stored.body.preferences.upload_published, false);
  await shot(page, '31-notification-settings-saved');
});

test('invite by email: the invitee opens the link from the email, signs in and joins', { timeout: 120_000 }, async () => {
  const owner = await signUpByApi('owner');
  const invitee = await signUpByApi('invitee');
  const ws = await api(owner.token, 'workspaces', { method: 'POST', body: { name: 'Emailed Studio' } });
  assert.equal(ws.status, 201);
  const invited = await api(owner.token, 'invitations', {
    method: 'POST',
    body: { workspace_id: ws.body.workspace.id, email: invitee.email, role: 'editor' },
  });
  assert.equal(invited.status, 201);

  const email = await emailTo(invitee.email);
  assert.equal(email.subject, 'You are invited to Emailed Studio');
  const link = /(https?:\/\/\S+\/accept\?token=[A-Za-z0-9_%-]+)/.exec(email.text)?.[1];
  assert.ok(link, 'the email has the accept link');

  const page = await newPage();
  await page.goto(link);
  // signed out: sign-in first, then back to the link
  await page.waitForURL((u) => u.pathname === '/sign-in');
  await page.getByLabel('Email').fill(invitee.email);
  await page.getByLabel('Password').fill(invitee.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/accept');
  await page.getByRole('button', { name: 'Accept invitation' }).click();
  await page.getByRole('heading', { name: 'You joined Emailed Studio' }).waitFor();
  await shot(page, '32-invitation-accepted-from-email');
  const mine = await api(invitee.token, 'workspaces');
  assert.ok(mine.body.workspaces.some((w: { id: string; role: string }) => w.id === ws.body.workspace.id && w.role === 'editor'));
});

test('the unsubscribe page works signed out and asks before it changes anything', { timeout: 60_000 }, async () => {
  const me = await signUpByApi('unsub');
  // the link a notification email carries, made as the worker makes it
  const { createHmac } = await import('node:crypto');
  const sig = createHmac('sha256', requiredEnv('EMAIL_LINK_SECRET')).update(`unsubscribe:v1:${me.id}:render_finished`).digest('base64url');
  const page = await newPage();
  await page.goto(`${webUrl}/unsubscribe?token=${encodeURIComponent(`${me.id}.render_finished.${sig}`)}`);
  await page.getByRole('heading', { name: 'Unsubscribe' }).waitFor();
  assert.equal(
    (await api(me.token, 'notifications/preferences')).body.preferences.render_finished,
    true,
    'opening the page changes nothing',
  );
  await shot(page, '33-unsubscribe');
  await page.getByRole('button', { name: 'Unsubscribe' }).click();
  await page.getByRole('status').filter({ hasText: 'Render finished' }).waitFor();
  assert.equal((await api(me.token, 'notifications/preferences')).body.preferences.render_finished, false);
});
