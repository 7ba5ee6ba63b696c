// The auth emulator's email flows and rate limits, in-process against SUPABASE_DB_URL with its
// own mail catcher, so each test controls the limits and the clock: GoTrue's endpoints, JSON and
// error codes (429 over_email_send_rate_limit / over_request_rate_limit, 403 otp_expired for a
// used or expired link), and what is stored and logged.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import type { AuthConfig, RateLimits } from '../../local/auth/config.ts';
import { createAuthServer, defaultAuthConfig } from '../../local/auth/server.ts';
import { startMailCatcher, type MailCatcher } from '../../local/mail/catcher.ts';
import type { CaughtMessage } from '../../local/mail/store.ts';
import { profile } from '../../local/profile.ts';
import { loadOrCreateKeys, type StackKeys } from '../../local/stack/keys.ts';

const DB_URL = process.env.SUPABASE_DB_URL;
if (!DB_URL) throw new Error('SUPABASE_DB_URL is required');

const RUN = randomBytes(4).toString('hex');
let n = 0;
const email = (label: string) => `${label}-${RUN}-${++n}@example.com`;
const SITE = 'http://127.0.0.1:59999';
const PASSWORD = 'first-password-123';
const ROOMY: RateLimits = { emailSent: 1e6, signInSignUps: 1e6, tokenRefresh: 1e6, tokenVerifications: 1e6 };

let sql: postgres.Sql;
let mail: MailCatcher;
let keys: StackKeys;
const dirs: string[] = [];
const servers: { close(): Promise<void> }[] = [];

interface Auth {
  url: string;
  clock: { ms: number };
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, any>; headers: Headers }>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** An emulator with config.toml's settings, the given limits and a clock the test moves. */
async function startAuth(limits: Partial<RateLimits> = {}, tweak: Partial<AuthConfig> = {}): Promise<Auth> {
  const base = defaultAuthConfig({ ...process.env, SITE_URL: SITE, SITE_REDIRECT_URL: `${SITE}/**` });
  const config: AuthConfig = { ...base, ...tweak, rateLimits: { ...ROOMY, ...limits } };
  const clock = { ms: Date.now() };
  const server = await createAuthServer({
    port: 0,
    dbUrl: DB_URL!,
    keys,
    // The admin calls below use the legacy service_role key, an HS256 JWT: a project that still
    // has its legacy JWT secret (the stack's default).
    legacyJwtSecret: keys.legacyJwtSecret,
    issuer: 'http://127.0.0.1:1/auth/v1',
    smtp: { host: mail.smtpHost, port: mail.smtpPort },
    config,
    now: () => clock.ms,
  });
  servers.push(server);
  return {
    url: server.url,
    clock,
    async call(method, path, body, headers = {}) {
      const res = await fetch(`${server.url}${path}`, {
        method,
        redirect: 'manual',
        headers: { 'content-type': 'application/json', 'x-supabase-api-version': '2024-01-01', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : {}, headers: res.headers };
    },
  };
}

async function inbox(to: string): Promise<CaughtMessage[]> {
  return (await (await fetch(`${mail.url}/api/messages?to=${encodeURIComponent(to)}`)).json()) as CaughtMessage[];
}

/** The token link of the newest email to `to` with that subject. */
async function mailed(to: string, subject: RegExp) {
  const m = (await inbox(to)).find((x) => subject.test(x.subject));
  assert.ok(m, `an email "${subject}" to ${to}`);
  const link = /(https?:\/\/\S+)#token_hash=([0-9a-f]+)&type=(\w+)/.exec(m.text);
  assert.ok(link, `a token link in ${m.text}`);
  return { message: m, base: link[1]!, tokenHash: link[2]!, type: link[3]!, code: /code[^:]*: (\d{6})/.exec(m.text)?.[1] };
}

async function confirmedUser(auth: Auth, address = email('user')) {
  const admin = { authorization: `Bearer ${keys.serviceRoleKey}` };
  const created = await auth.call('POST', '/admin/users', { email: address, password: PASSWORD, email_confirm: true }, admin);
  assert.equal(created.status, 200, JSON.stringify(created.body));
  return { email: address, id: created.body.id as string };
}

const fromAddress = (ip: string) => ({ 'x-forwarded-for': ip });

before(async () => {
  sql = postgres(DB_URL, { max: 2, onnotice: () => {} });
  const keyDir = mkdtempSync(join(tmpdir(), 'auth-flows-keys-'));
  const mailDir = mkdtempSync(join(tmpdir(), 'auth-flows-mail-'));
  dirs.push(keyDir, mailDir);
  keys = await loadOrCreateKeys({ ...profile('test'), name: 'auth-flows-test', dataRoot: keyDir });
  mail = await startMailCatcher({ smtpPort: 0, httpPort: 0, dir: mailDir });
});

after(async () => {
  for (const s of servers) await s.close();
  await mail?.close();
  if (sql) {
    await sql`delete from auth.users where email like ${`%-${RUN}-%@example.com`}`;
    await sql.end({ timeout: 5 });
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('sign-up with confirmation', () => {
  it('returns the user without a session, refuses sign-in until the emailed link is used once', async () => {
    const auth = await startAuth();
    const address = email('signup');
    const redirect = `${SITE}/auth/confirm?next=%2Fdashboard`;
    const signup = await auth.call('POST', `/signup?redirect_to=${encodeURIComponent(redirect)}`, { email: address, password: PASSWORD });
    assert.equal(signup.status, 200);
    assert.equal(signup.body.access_token, undefined);
    assert.equal(signup.body.email, address);
    assert.ok(signup.body.confirmation_sent_at);
    assert.equal(signup.body.email_confirmed_at, undefined);

    const early = await auth.call('POST', '/token?grant_type=password', { email: address, password: PASSWORD });
    assert.equal(early.status, 400);
    assert.deepEqual(early.body, { code: 'email_not_confirmed', message: 'Email not confirmed' });

    const link = await mailed(address, /^Confirm your email address$/);
    assert.equal(link.base, redirect, 'the link leads to the allowed redirect_to');
    assert.equal(link.type, 'signup');
    assert.match(link.message.html, /href="http:\/\/127\.0\.0\.1:59999\/auth\/confirm\?next=%2Fdashboard#token_hash=/);

    // Stored hashed: the table never holds what the link carries.
    const [row] = await sql`select token_hash from auth.one_time_tokens where user_id = ${signup.body.id}`;
    assert.equal(row!.token_hash, createHash('sha256').update(link.tokenHash).digest('hex'));

    const verified = await auth.call('POST', '/verify', { type: 'signup', token_hash: link.tokenHash });
    assert.equal(verified.status, 200);
    assert.equal(verified.body.token_type, 'bearer');
    assert.ok(verified.body.user.email_confirmed_at);
    assert.equal((await auth.call('POST', '/token?grant_type=password', { email: address, password: PASSWORD })).status, 200);

    const reused = await auth.call('POST', '/verify', { type: 'signup', token_hash: link.tokenHash });
    assert.equal(reused.status, 403);
    assert.deepEqual(reused.body, { code: 'otp_expired', message: 'Email link is invalid or has expired' });
  });

  it('sends a redirect_to outside additional_redirect_urls back to the site URL', async () => {
    const auth = await startAuth();
    const address = email('evil-redirect');
    await auth.call('POST', `/signup?redirect_to=${encodeURIComponent('https://evil.example/steal')}`, {
      email: address,
      password: PASSWORD,
    });
    assert.equal((await mailed(address, /Confirm/)).base, SITE);
  });

  it('refuses an expired link with 403 otp_expired', async () => {
    const auth = await startAuth();
    const address = email('expired');
    const signup = await auth.call('POST', '/signup', { email: address, password: PASSWORD });
    const link = await mailed(address, /Confirm/);
    await sql`update auth.one_time_tokens set created_at = now() - interval '3601 seconds' where user_id = ${signup.body.id}`;
    const late = await auth.call('POST', '/verify', { type: 'signup', token_hash: link.tokenHash });
    assert.equal(late.status, 403);
    assert.equal(late.body.code, 'otp_expired');
    const [user] = await sql`select email_confirmed_at from auth.users where id = ${signup.body.id}`;
    assert.equal(user!.email_confirmed_at, null);
  });
});

describe('password recovery', () => {
  it('mails a link whose session sets a new password; the old one stops working; the link works once (GET /verify)', async () => {
    const auth = await startAuth();
    const user = await confirmedUser(auth);
    const recover = await auth.call('POST', `/recover?redirect_to=${encodeURIComponent(`${SITE}/auth/confirm`)}`, { email: user.email });
    assert.equal(recover.status, 200);
    assert.deepEqual(recover.body, {});
    const link = await mailed(user.email, /^Reset your password$/);
    assert.equal(link.type, 'recovery');

    const go = await auth.call(
      'GET',
      `/verify?token=${link.tokenHash}&type=recovery&redirect_to=${encodeURIComponent(`${SITE}/reset-password`)}`,
    );
    assert.equal(go.status, 303);
    const target = new URL(go.headers.get('location')!);
    assert.equal(`${target.origin}${target.pathname}`, `${SITE}/reset-password`);
    const fragment = new URLSearchParams(target.hash.slice(1));
    assert.equal(fragment.get('type'), 'recovery');
    assert.equal(fragment.get('token_type'), 'bearer');
    const accessToken = fragment.get('access_token')!;

    const changed = await auth.call('PUT', '/user', { password: 'second-password-456' }, { authorization: `Bearer ${accessToken}` });
    assert.equal(changed.status, 200);
    assert.equal(
      (await auth.call('POST', '/token?grant_type=password', { email: user.email, password: 'second-password-456' })).status,
      200,
    );
    const old = await auth.call('POST', '/token?grant_type=password', { email: user.email, password: PASSWORD });
    assert.equal(old.status, 400);
    assert.equal(old.body.code, 'invalid_credentials');

    const again = await auth.call(
      'GET',
      `/verify?token=${link.tokenHash}&type=recovery&redirect_to=${encodeURIComponent(`${SITE}/reset-password`)}`,
    );
    assert.equal(again.status, 303);
    const error = new URLSearchParams(new URL(again.headers.get('location')!).hash.slice(1));
    assert.equal(error.get('error'), 'access_denied');
    assert.equal(error.get('error_code'), 'otp_expired');
    assert.equal(error.get('error_description'), 'Email link is invalid or has expired');
  });

  it('answers an unknown address like a known one and sends nothing', async () => {
    const auth = await startAuth();
    const nobody = email('nobody');
    const res = await auth.call('POST', '/recover', { email: nobody });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {});
    assert.deepEqual(await inbox(nobody), []);
  });
});

describe('magic link and one-time code', () => {
  it('signs in with the emailed code once; create_user false refuses unknown addresses', async () => {
    const auth = await startAuth();
    const unknown = await auth.call('POST', '/otp', { email: email('ghost'), create_user: false });
    assert.equal(unknown.status, 422);
    assert.equal(unknown.body.code, 'otp_disabled');

    const user = await confirmedUser(auth);
    assert.equal((await auth.call('POST', '/otp', { email: user.email, create_user: false })).status, 200);
    const link = await mailed(user.email, /^Your sign-in link$/);
    assert.equal(link.type, 'magiclink');
    assert.match(link.code ?? '', /^\d{6}$/);
    const wrong = await auth.call('POST', '/verify', {
      type: 'email',
      email: user.email,
      token: link.code === '000000' ? '111111' : '000000',
    });
    assert.equal(wrong.status, 403);
    assert.deepEqual(wrong.body, { code: 'otp_expired', message: 'Token has expired or is invalid' });
    const ok = await auth.call('POST', '/verify', { type: 'email', email: user.email, token: link.code });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.user.id, user.id);
    const reused = await auth.call('POST', '/verify', { type: 'magiclink', token_hash: link.tokenHash });
    assert.equal(reused.status, 403);
  });
});

describe('email change', () => {
  it('needs the links sent to both addresses; each works once', async () => {
    const auth = await startAuth();
    const user = await confirmedUser(auth);
    const session = await auth.call('POST', '/token?grant_type=password', { email: user.email, password: PASSWORD });
    const bearer = { authorization: `Bearer ${session.body.access_token}` };
    const newAddress = email('new');
    const change = await auth.call('PUT', '/user', { email: newAddress }, bearer);
    assert.equal(change.status, 200);
    assert.equal(change.body.email, user.email);
    assert.equal(change.body.new_email, newAddress);
    assert.ok(change.body.email_change_sent_at);

    const toNew = await mailed(newAddress, /^Confirm your new email address$/);
    const toOld = await mailed(user.email, /^Confirm your new email address$/);
    assert.notEqual(toNew.tokenHash, toOld.tokenHash);
    const first = await auth.call('POST', '/verify', { type: 'email_change', token_hash: toOld.tokenHash });
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, {
      msg: 'Confirmation link accepted. Please proceed to confirm link sent to the other email',
      code: '200',
    });
    assert.equal((await auth.call('GET', '/user', undefined, bearer)).body.email, user.email, 'nothing changes after one confirmation');
    assert.equal((await auth.call('POST', '/verify', { type: 'email_change', token_hash: toOld.tokenHash })).status, 403);

    const second = await auth.call('POST', '/verify', { type: 'email_change', token_hash: toNew.tokenHash });
    assert.equal(second.status, 200);
    assert.equal(second.body.user.email, newAddress);
    assert.equal((await auth.call('POST', '/token?grant_type=password', { email: newAddress, password: PASSWORD })).status, 200);
    assert.equal((await auth.call('POST', '/verify', { type: 'email_change', token_hash: toNew.tokenHash })).status, 403);
  });

  it('refuses an address another account uses with 422 email_exists', async () => {
    const auth = await startAuth();
    const a = await confirmedUser(auth);
    const b = await confirmedUser(auth);
    const session = await auth.call('POST', '/token?grant_type=password', { email: a.email, password: PASSWORD });
    const res = await auth.call('PUT', '/user', { email: b.email }, { authorization: `Bearer ${session.body.access_token}` });
    assert.equal(res.status, 422);
    assert.equal(res.body.code, 'email_exists');
  });
});

describe('invitations (admin)', () => {
  it('mails an invitation whose link signs the invitee in to choose a password', async () => {
    const auth = await startAuth();
    const address = email('invitee');
    const asUser = await auth.call('POST', '/invite', { email: address }, { authorization: `Bearer ${keys.anonKey}` });
    assert.equal(asUser.status, 403);
    const invited = await auth.call(
      'POST',
      '/invite',
      { email: address, data: { display_name: 'Invited' } },
      { authorization: `Bearer ${keys.serviceRoleKey}` },
    );
    assert.equal(invited.status, 200);
    assert.ok(invited.body.invited_at);
    const link = await mailed(address, /invited/);
    assert.equal(link.type, 'invite');
    const accepted = await auth.call('POST', '/verify', { type: 'invite', token_hash: link.tokenHash });
    assert.equal(accepted.status, 200);
    const set = await auth.call(
      'PUT',
      '/user',
      { password: 'invitee-password-1' },
      { authorization: `Bearer ${accepted.body.access_token}` },
    );
    assert.equal(set.status, 200);
    assert.equal((await auth.call('POST', '/token?grant_type=password', { email: address, password: 'invitee-password-1' })).status, 200);
    const again = await auth.call('POST', '/invite', { email: address }, { authorization: `Bearer ${keys.serviceRoleKey}` });
    assert.equal(again.status, 422);
    assert.equal(again.body.code, 'email_exists');
  });
});

describe('rate limits (config.toml [auth.rate_limit] and max_frequency)', () => {
  it('allows one email of a kind per user per max_frequency: 429 over_email_send_rate_limit', async () => {
    const auth = await startAuth();
    const user = await confirmedUser(auth);
    assert.equal((await auth.call('POST', '/recover', { email: user.email })).status, 200);
    const again = await auth.call('POST', '/recover', { email: user.email });
    assert.equal(again.status, 429);
    assert.equal(again.body.code, 'over_email_send_rate_limit');
    assert.match(again.body.message, /^For security purposes, you can only request this after \d+ seconds\.$/);
    assert.equal(again.headers.get('x-sb-error-code'), 'over_email_send_rate_limit');
    // The resend of a sign-up confirmation shares the rule (what the web app's button shows).
    const address = email('resend');
    await auth.call('POST', '/signup', { email: address, password: PASSWORD });
    const resend = await auth.call('POST', '/resend', { type: 'signup', email: address });
    assert.equal(resend.status, 429);
    assert.equal(resend.body.code, 'over_email_send_rate_limit');
  });

  it('sends at most email_sent emails an hour for the whole project: 429 over_email_send_rate_limit', async () => {
    const auth = await startAuth({ emailSent: 3 });
    for (let i = 0; i < 3; i++) {
      assert.equal((await auth.call('POST', '/signup', { email: email('hourly'), password: PASSWORD })).status, 200);
    }
    const address = email('hourly-over');
    const over = await auth.call('POST', '/signup', { email: address, password: PASSWORD });
    assert.equal(over.status, 429);
    assert.deepEqual(over.body, { code: 'over_email_send_rate_limit', message: 'email rate limit exceeded' });
    assert.deepEqual(await inbox(address), []);
    const [row] = await sql`select count(*)::int as n from auth.users where email = ${address}`;
    assert.equal(row!.n, 0, 'the refused sign-up left no user behind');
    auth.clock.ms += 3_600_000;
    assert.equal((await auth.call('POST', '/signup', { email: address, password: PASSWORD })).status, 200, 'a new hour, a new allowance');
  });

  it('limits sign-ups and email requests per client address: bursts of 30, then 429 over_request_rate_limit', async () => {
    const auth = await startAuth({ signInSignUps: 30 });
    for (let i = 0; i < 30; i++) {
      assert.equal((await auth.call('POST', '/recover', { email: email('nobody') }, fromAddress('198.51.100.7'))).status, 200);
    }
    const over = await auth.call('POST', '/recover', { email: email('nobody') }, fromAddress('198.51.100.7'));
    assert.equal(over.status, 429);
    assert.deepEqual(over.body, { code: 'over_request_rate_limit', message: 'Request rate limit reached' });
    // A spoofed first X-Forwarded-For entry does not help: the gateway's (last) entry counts.
    assert.equal((await auth.call('POST', '/recover', { email: email('nobody') }, fromAddress('203.0.113.9, 198.51.100.7'))).status, 429);
    assert.equal(
      (await auth.call('POST', '/recover', { email: email('nobody') }, fromAddress('198.51.100.8'))).status,
      200,
      'another address has its own bucket',
    );
    assert.equal(
      (await auth.call('POST', '/signup', { email: email('other-endpoint'), password: PASSWORD }, fromAddress('198.51.100.7'))).status,
      200,
      'each endpoint has its own bucket',
    );
    auth.clock.ms += 10_000; // 30 per 5 minutes: one more request every 10 s
    assert.equal((await auth.call('POST', '/recover', { email: email('nobody') }, fromAddress('198.51.100.7'))).status, 200);
    assert.equal((await auth.call('POST', '/recover', { email: email('nobody') }, fromAddress('198.51.100.7'))).status, 429);
  });

  it('limits verifications and token grants per client address', async () => {
    const auth = await startAuth({ tokenVerifications: 30, tokenRefresh: 150 });
    for (let i = 0; i < 30; i++) {
      assert.equal(
        (await auth.call('POST', '/verify', { type: 'signup', token_hash: 'ab'.repeat(28) }, fromAddress('192.0.2.1'))).status,
        403,
      );
    }
    const over = await auth.call('POST', '/verify', { type: 'signup', token_hash: 'ab'.repeat(28) }, fromAddress('192.0.2.1'));
    assert.equal(over.status, 429);
    assert.equal(over.body.code, 'over_request_rate_limit');
    assert.equal((await auth.call('GET', `/verify?type=signup&token=${'ab'.repeat(28)}`, undefined, fromAddress('192.0.2.1'))).status, 429);

    const user = await confirmedUser(auth);
    for (let i = 0; i < 30; i++) {
      assert.equal(
        (await auth.call('POST', '/token?grant_type=password', { email: user.email, password: PASSWORD }, fromAddress('192.0.2.2'))).status,
        200,
      );
    }
    const grant = await auth.call(
      'POST',
      '/token?grant_type=password',
      { email: user.email, password: PASSWORD },
      fromAddress('192.0.2.2'),
    );
    assert.equal(grant.status, 429);
    assert.equal(grant.body.code, 'over_request_rate_limit');
  });
});

describe('logging', () => {
  it('never logs an address, a code or a link', async () => {
    const lines: string[] = [];
    const original = { log: console.log, error: console.error, warn: console.warn };
    for (const k of ['log', 'error', 'warn'] as const) console[k] = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
    try {
      const auth = await startAuth();
      const user = await confirmedUser(auth);
      await auth.call('POST', '/otp', { email: user.email, create_user: false });
      const link = await mailed(user.email, /sign-in link/);
      await auth.call('POST', '/verify', { type: 'email', email: user.email, token: link.code });
      await auth.call('POST', '/verify', { type: 'magiclink', token_hash: link.tokenHash });
      const address = email('logged');
      await auth.call('POST', '/signup', { email: address, password: PASSWORD });
      const confirm = await mailed(address, /Confirm/);
      assert.ok(
        lines.some((l) => /sent the (magic_link|confirmation) email/.test(l)),
        'sending is logged',
      );
      for (const secret of [user.email, address, link.tokenHash, link.code!, confirm.tokenHash]) {
        assert.ok(!lines.some((l) => l.includes(secret)), `"${secret}" must not be logged: ${lines.join('\n')}`);
      }
    } finally {
      Object.assign(console, original);
    }
  });
});
