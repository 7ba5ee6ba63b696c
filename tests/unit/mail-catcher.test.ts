// The local mail catcher: real SMTP in (nodemailer as the client, as Auth uses it), the JSON API
// and web inbox out, persistence across a restart, the bound on kept messages.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { startMailCatcher, type MailCatcher } from '../../local/mail/catcher.ts';
import type { CaughtMessage } from '../../local/mail/store.ts';

let dir: string;
let catcher: MailCatcher;

function transport(c: MailCatcher) {
  return nodemailer.createTransport({ host: c.smtpHost, port: c.smtpPort, secure: false, ignoreTLS: true });
}

async function messages(c: MailCatcher, to?: string): Promise<CaughtMessage[]> {
  const r = await fetch(`${c.url}/api/messages${to ? `?to=${encodeURIComponent(to)}` : ''}`);
  assert.equal(r.status, 200);
  return (await r.json()) as CaughtMessage[];
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mail-catcher-'));
  catcher = await startMailCatcher({ smtpPort: 0, httpPort: 0, dir, maxMessages: 5 });
});
after(async () => {
  await catcher.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  assert.equal((await fetch(`${catcher.url}/api/messages`, { method: 'DELETE' })).status, 200);
});

describe('mail catcher', () => {
  it('stores a message sent over SMTP with its parts, recipients and headers', async () => {
    const info = await transport(catcher).sendMail({
      from: '"Content Catalyst" <no-reply@example.com>',
      to: 'Ann <Ann@Example.com>',
      bcc: 'hidden@example.com',
      subject: 'Confirm your signup',
      text: 'Open https://app.example/confirm?token=abc to confirm.',
      html: '<p><a href="https://app.example/confirm?token=abc">Confirm</a></p>',
      headers: { 'List-Unsubscribe': '<https://app.example/unsubscribe>' },
    });
    assert.match(info.response, /^250 /);
    const [m] = await messages(catcher);
    assert.ok(m);
    assert.equal(m.from, 'no-reply@example.com');
    assert.deepEqual(m.to.sort(), ['ann@example.com', 'hidden@example.com']);
    assert.equal(m.subject, 'Confirm your signup');
    assert.match(m.text, /token=abc/);
    assert.match(m.html, /<a href="https:\/\/app.example\/confirm\?token=abc">/);
    assert.equal(m.headers['list-unsubscribe'], '<https://app.example/unsubscribe>');
    assert.equal(m.headers.subject, 'Confirm your signup');
    assert.ok(!Number.isNaN(Date.parse(m.date)));

    const one = await fetch(`${catcher.url}/api/messages/${m.id}`);
    assert.deepEqual(await one.json(), m);
    const raw = await (await fetch(`${catcher.url}/api/messages/${m.id}/raw`)).text();
    assert.match(raw, /^Subject: Confirm your signup\r?$/m);
  });

  it('filters by recipient (case-insensitively) and lists newest first', async () => {
    const t = transport(catcher);
    await t.sendMail({ from: 'a@example.com', to: 'one@example.com', subject: 'first', text: '1' });
    await t.sendMail({ from: 'a@example.com', to: 'two@example.com', subject: 'other', text: '2' });
    await t.sendMail({ from: 'a@example.com', to: 'one@example.com', subject: 'second', text: '3' });
    assert.deepEqual(
      (await messages(catcher, 'ONE@example.com')).map((m) => m.subject),
      ['second', 'first'],
    );
    assert.deepEqual(
      (await messages(catcher)).map((m) => m.subject),
      ['second', 'other', 'first'],
    );
    assert.deepEqual(await messages(catcher, 'nobody@example.com'), []);
  });

  it('keeps only the newest messages up to its bound', async () => {
    const t = transport(catcher);
    for (let i = 0; i < 7; i++) await t.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: `m${i}`, text: 'x' });
    assert.deepEqual(
      (await messages(catcher)).map((m) => m.subject),
      ['m6', 'm5', 'm4', 'm3', 'm2'],
    );
  });

  it('keeps messages across a restart and forgets them once deleted', async () => {
    await transport(catcher).sendMail({ from: 'a@example.com', to: 'keep@example.com', subject: 'kept', text: 'x' });
    await catcher.close();
    catcher = await startMailCatcher({ smtpPort: 0, httpPort: 0, dir, maxMessages: 5 });
    assert.deepEqual(
      (await messages(catcher, 'keep@example.com')).map((m) => m.subject),
      ['kept'],
    );
    await fetch(`${catcher.url}/api/messages`, { method: 'DELETE' });
    await catcher.close();
    catcher = await startMailCatcher({ smtpPort: 0, httpPort: 0, dir, maxMessages: 5 });
    assert.deepEqual(await messages(catcher), []);
  });

  it('shows messages in the web inbox escaped, with the HTML part only in a sandbox', async () => {
    await transport(catcher).sendMail({
      from: 'a@example.com',
      to: 'view@example.com',
      subject: '<script>alert(1)</script>',
      text: 'Click https://app.example/x?a=1&b=2. "<b>"',
      html: '<script>alert(2)</script><p>hi</p>',
    });
    const [m] = await messages(catcher);
    const inbox = await fetch(`${catcher.url}/`);
    assert.match(inbox.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const list = await inbox.text();
    assert.ok(!list.includes('<script>alert(1)'));
    assert.ok(list.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(list.includes(`/messages/${m!.id}`));
    const view = await (await fetch(`${catcher.url}/messages/${m!.id}`)).text();
    assert.ok(view.includes('<a href="https://app.example/x?a=1&amp;b=2">'), 'link made clickable, trailing dot left out');
    assert.ok(view.includes('&quot;&lt;b&gt;&quot;'));
    assert.ok(view.includes('sandbox'));
    const part = await fetch(`${catcher.url}/messages/${m!.id}/html`);
    assert.match(part.headers.get('content-security-policy') ?? '', /^sandbox; default-src 'none'/);
  });

  it('answers 404 for unknown messages and routes', async () => {
    assert.equal((await fetch(`${catcher.url}/api/messages/00000000-0000-4000-8000-000000000000`)).status, 404);
    assert.equal((await fetch(`${catcher.url}/api/messages/not-an-id`)).status, 404);
    assert.equal((await fetch(`${catcher.url}/messages/../../etc/passwd`)).status, 404);
    assert.equal((await fetch(`${catcher.url}/nope`)).status, 404);
  });
});
