// The fake Resend: POST /resend/emails with Resend's wire format and error bodies, Idempotency-Key
// as Resend documents it, faults in Resend's shape, answers held back after acceptance, and
// delivery of each accepted email over SMTP (to a throwaway SMTP server here).
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { createFakesServer, type FakesServer } from '../../local/fakes/server.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let fakes: FakesServer;
let base: string;
let smtp: SMTPServer;
let smtpPort: number;
const received: string[] = [];

before(async () => {
  fakes = await createFakesServer({ port: 0 });
  base = fakes.url;
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, done) {
      let data = '';
      stream.on('data', (c: Buffer) => (data += c.toString('utf8')));
      stream.on('end', () => {
        received.push(data);
        done();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  smtpPort = (smtp.server.address() as AddressInfo).port;
});
after(async () => {
  await fakes.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});
beforeEach(async () => {
  await fetch(`${base}/_control/reset`, { method: 'POST' });
  await control('settings', { smtp: { host: '127.0.0.1', port: smtpPort } });
  received.length = 0;
});

async function control(path: string, body?: unknown): Promise<Json> {
  const r = await fetch(
    `${base}/_control/resend/${path}`,
    body === undefined
      ? {}
      : {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
  );
  return (await r.json()) as Json;
}

const EMAIL = {
  from: 'Catalyst <notify@example.test>',
  to: 'someone@example.test',
  subject: 'Hello',
  text: 'Hi.',
  html: '<p>Hi.</p>',
  headers: { 'List-Unsubscribe': '<https://x.test/u>' },
};

async function send(body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(`${base}/resend/emails`, {
    method: 'POST',
    headers: { authorization: 'Bearer re_test', 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Json };
}

describe('fake Resend', () => {
  it('accepts an email with an id, records it and delivers it over SMTP', async () => {
    const r = await send(EMAIL);
    assert.equal(r.status, 200);
    assert.match(r.body.id, /^[0-9a-f-]{36}$/);
    const { emails } = await control('emails');
    assert.equal(emails.length, 1);
    assert.equal(emails[0].id, r.body.id);
    assert.deepEqual(emails[0].to, ['someone@example.test']);
    for (let i = 0; i < 50 && received.length === 0; i++) await new Promise((res) => setTimeout(res, 50));
    assert.equal(received.length, 1, 'delivered to the SMTP server');
    assert.match(received[0]!, /Subject: Hello/);
    assert.match(received[0]!, new RegExp(`X-Resend-Email-Id: ${r.body.id}`, 'i'));
    assert.match(received[0]!, /List-Unsubscribe: <https:\/\/x\.test\/u>/);
    assert.equal((await control(`emails/${r.body.id}`)).delivery.status, 'delivered');
  });

  it('answers a repeated Idempotency-Key with the first id and sends nothing; another payload is 409', async () => {
    const first = await send(EMAIL, { 'idempotency-key': 'notification-1' });
    const again = await send({ ...EMAIL }, { 'idempotency-key': 'notification-1' });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    const other = await send({ ...EMAIL, subject: 'Changed' }, { 'idempotency-key': 'notification-1' });
    assert.equal(other.status, 409);
    assert.deepEqual(other.body, {
      statusCode: 409,
      name: 'invalid_idempotent_request',
      message: 'Same idempotency key used with a different request payload.',
    });
    assert.equal((await control('emails')).emails.length, 1);
    const long = await send(EMAIL, { 'idempotency-key': 'k'.repeat(257) });
    assert.equal(long.status, 400);
    assert.equal(long.body.name, 'invalid_idempotency_key');
  });

  it('refuses as Resend does: no key 401, a wrong key 403, missing or malformed fields 422', async () => {
    const noKey = await fetch(`${base}/resend/emails`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(EMAIL),
    });
    assert.equal(noKey.status, 401);
    assert.equal(((await noKey.json()) as Json).name, 'missing_api_key');
    await control('settings', { apiKeys: ['re_right'] });
    assert.equal((await send(EMAIL)).body.name, 'invalid_api_key');
    await control('settings', { apiKeys: null });
    const noTo = await send({ ...EMAIL, to: undefined });
    assert.equal(noTo.status, 422);
    assert.deepEqual(noTo.body, { statusCode: 422, name: 'missing_required_field', message: 'Missing `to` field.' });
    const badFrom = await send({ ...EMAIL, from: 'not an address' });
    assert.equal(badFrom.status, 422);
    assert.equal(badFrom.body.name, 'validation_error');
    const noBody = await send({ ...EMAIL, text: undefined, html: undefined });
    assert.equal(noBody.status, 422);
    assert.equal((await control('emails')).emails.length, 0, 'nothing refused was recorded');
  });

  it("faults on /resend answer in Resend's shape before anything is accepted", async () => {
    await fetch(`${base}/_control/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ match: { pathPrefix: '/resend/emails' }, status: 500, times: 1 }),
    });
    const failed = await send(EMAIL);
    assert.equal(failed.status, 500);
    assert.deepEqual(failed.body, { statusCode: 500, name: 'application_error', message: 'An unexpected error occurred.' });
    assert.equal((await control('emails')).emails.length, 0);
    assert.equal((await send(EMAIL)).status, 200);
  });

  it('holds an answer back after accepting when told to', async () => {
    await control('settings', { answerDelayMs: 300 });
    const started = Date.now();
    const pending = send(EMAIL);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal((await control('emails')).emails.length, 1, 'accepted before the answer');
    assert.equal((await pending).status, 200);
    assert.ok(Date.now() - started >= 300);
  });
});
