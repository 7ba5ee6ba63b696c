// The local auth emulator, driven by the real supabase-js client the product uses.
// With SUPABASE_URL set (the test runner's stack) it talks to the running gateway; otherwise it
// starts the emulator in-process against SUPABASE_DB_URL behind a tiny /auth/v1 prefix proxy,
// the same URL layout the gateway gives it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { AuthApiError, createClient, isAuthApiError, type SupabaseClient } from '@supabase/supabase-js';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, importJWK, jwtVerify, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import postgres from 'postgres';
import { createAuthServer, defaultAuthConfig } from '../../local/auth/server.ts';
import { startMailCatcher } from '../../local/mail/catcher.ts';
import { profile } from '../../local/profile.ts';
import { loadOrCreateKeys, type StackKeys } from '../../local/stack/keys.ts';

const DB_URL = process.env.SUPABASE_DB_URL;
if (!DB_URL) throw new Error('SUPABASE_DB_URL is required (the emulator and these checks use the database)');

const RUN = randomBytes(4).toString('hex');
let emailCounter = 0;
const uniqueEmail = (label: string) => `${label}-${RUN}-${++emailCounter}@example.com`;
const PASSWORD = 'correct-horse-battery';

interface Stack {
  url: string; // what supabase-js gets as supabaseUrl
  anonKey: string;
  serviceRoleKey: string;
  /** The signing key, to forge tokens the emulator must still refuse. */
  privateJwk: JWK;
  /** The mail catcher's API (Auth's emails: sign-up confirmations). */
  mailUrl: string;
  close(): Promise<void>;
}

/** The stack's keys when a stack is named, otherwise fresh ones in a temporary directory. */
async function readKeys(): Promise<{ keys: StackKeys; cleanup(): void }> {
  if (process.env.LOCAL_KEY_FILE) {
    return { keys: JSON.parse(readFileSync(process.env.LOCAL_KEY_FILE, 'utf8')) as StackKeys, cleanup() {} };
  }
  const dataRoot = mkdtempSync(join(tmpdir(), 'auth-emulator-test-'));
  const keys = await loadOrCreateKeys({ ...profile('test'), name: 'auth-emulator-test', dataRoot });
  return { keys, cleanup: () => rmSync(dataRoot, { recursive: true, force: true }) };
}

/** Kong's job for GoTrue, in miniature: /auth/v1/* → emulator root, anything else 404. */
async function startPrefixProxy(target: () => string) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    if (!url.pathname.startsWith('/auth/v1/')) {
      res.writeHead(404).end();
      return;
    }
    const upstream = new URL(target());
    const proxied = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: url.pathname.slice('/auth/v1'.length) + url.search,
        headers: { ...req.headers, host: upstream.host },
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    proxied.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(proxied);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function startStack(): Promise<Stack> {
  const external = process.env.SUPABASE_URL;
  if (external) {
    const anonKey = process.env.SUPABASE_ANON_KEY;
    const serviceRoleKey = process.env.SUPABASE_SERVICE_ROLE_KEY;
    if (!anonKey || !serviceRoleKey) throw new Error('SUPABASE_ANON_KEY and SUPABASE_SERVICE_ROLE_KEY must be set with SUPABASE_URL');
    const { keys } = await readKeys();
    const mailUrl = process.env.LOCAL_MAIL_URL;
    if (!mailUrl) throw new Error('LOCAL_MAIL_URL must be set with SUPABASE_URL (the stack env has it)');
    return { url: external.replace(/\/+$/, ''), anonKey, serviceRoleKey, privateJwk: keys.privateJwk, mailUrl, close: async () => {} };
  }
  const { keys, cleanup: cleanupKeys } = await readKeys();
  const mailDir = mkdtempSync(join(tmpdir(), 'auth-emulator-mail-'));
  const mail = await startMailCatcher({ smtpPort: 0, httpPort: 0, dir: mailDir });
  const cleanup = () => {
    cleanupKeys();
    rmSync(mailDir, { recursive: true, force: true });
  };
  let authUrl = '';
  const proxy = await startPrefixProxy(() => authUrl);
  // Every call here comes from one address: the limits have their own tests (auth-email-flows).
  const roomy = { emailSent: 1e6, signInSignUps: 1e6, tokenRefresh: 1e6, tokenVerifications: 1e6 };
  const config = { ...defaultAuthConfig(), rateLimits: roomy };
  const smtp = { host: mail.smtpHost, port: mail.smtpPort };
  const auth = await createAuthServer({ port: 0, dbUrl: DB_URL!, keys, issuer: `${proxy.url}/auth/v1`, smtp, config }).catch(
    async (err: unknown) => {
      await proxy.close();
      await mail.close();
      cleanup();
      throw err;
    },
  );
  authUrl = auth.url;
  return {
    url: proxy.url,
    anonKey: keys.anonKey,
    serviceRoleKey: keys.serviceRoleKey,
    privateJwk: keys.privateJwk,
    mailUrl: mail.url,
    close: async () => {
      await proxy.close();
      await auth.close();
      await mail.close();
      cleanup();
    },
  };
}

// Node 20 has no global WebSocket and supabase-js refuses to build its realtime client without
// one. Realtime is not part of these tests, so any use of it fails loudly.
class RealtimeNotUsedHere {
  constructor() {
    throw new Error('realtime is not used by the auth emulator tests');
  }
}

let stack: Stack;
let sql: postgres.Sql;
const authUrl = () => `${stack.url}/auth/v1`;

function client(key = stack.anonKey): SupabaseClient {
  return createClient(stack.url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: RealtimeNotUsedHere as never },
  });
}

/** The token of the newest Auth email to `email` (waits for it to arrive at the catcher). */
async function mailedTokenHash(email: string, subject = /Confirm your email address/): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const list = (await (await fetch(`${stack.mailUrl}/api/messages?to=${encodeURIComponent(email.toLowerCase())}`)).json()) as {
      subject: string;
      text: string;
    }[];
    const hash = list.find((m) => subject.test(m.subject))?.text.match(/token_hash=([0-9a-f]+)/)?.[1];
    if (hash) return hash;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no "${subject}" email arrived for ${email}`);
}

/** Signs up (confirmations are on: no session) and confirms through the emailed link. */
async function signUp(email = uniqueEmail('user'), data: Record<string, unknown> = {}) {
  const c = client();
  const { data: result, error } = await c.auth.signUp({ email, password: PASSWORD, options: { data } });
  assert.equal(error, null);
  assert.equal(result.session, null, 'with confirmations on, sign-up returns no session');
  const confirmed = await c.auth.verifyOtp({ token_hash: await mailedTokenHash(email), type: 'signup' });
  assert.equal(confirmed.error, null);
  assert.ok(confirmed.data.session && confirmed.data.user);
  return { email, session: confirmed.data.session, user: confirmed.data.user };
}

function assertApiError(error: unknown, status: number, code: string) {
  assert.ok(isAuthApiError(error), `expected AuthApiError, got ${String(error)}`);
  assert.ok(error instanceof AuthApiError);
  assert.equal(error.status, status);
  assert.equal(error.code, code);
}

/** Moves a refresh token's revocation time into the past, beyond refresh_token_reuse_interval. */
async function ageRefreshTokens(sessionId: string) {
  await sql`update auth.refresh_tokens set updated_at = now() - interval '1 hour' where session_id = ${sessionId}`;
}

const rawFetch = (path: string, init: RequestInit = {}) =>
  fetch(`${authUrl()}${path}`, { ...init, headers: { apikey: stack.anonKey, ...(init.headers ?? {}) } });

before(async () => {
  stack = await startStack();
  sql = postgres(DB_URL, { max: 2, onnotice: () => {} });
});

after(async () => {
  // Users of this run only (their addresses carry RUN); admin-deleted ones are already gone.
  if (sql) {
    await sql`delete from auth.users where email like ${`%-${RUN}-%@example.com`}`;
    await sql.end({ timeout: 5 });
  }
  await stack?.close();
});

describe('auth emulator: discovery', () => {
  it('answers /health like GoTrue and publishes the signing key at the JWKS endpoint', async () => {
    const health = await (await rawFetch('/health')).json();
    assert.equal(health.name, 'GoTrue');
    assert.equal(typeof health.version, 'string');
    const jwksRes = await rawFetch('/.well-known/jwks.json');
    assert.equal(jwksRes.status, 200);
    const jwks = (await jwksRes.json()) as JSONWebKeySet;
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]!.kty, 'EC');
    assert.equal(jwks.keys[0]!.crv, 'P-256');
    assert.ok(jwks.keys[0]!.kid);
    assert.equal('d' in jwks.keys[0]!, false, 'the private part is never published');
  });
});

describe('auth emulator: sign-up', () => {
  it('creates an unconfirmed user without a session, and the emailed link confirms and signs in', async () => {
    const email = uniqueEmail('Signup').replace('signup', 'SignUp');
    const pending = await client().auth.signUp({ email, password: PASSWORD });
    assert.equal(pending.error, null);
    assert.equal(pending.data.session, null);
    assert.equal(pending.data.user?.email_confirmed_at, undefined);
    assert.ok(pending.data.user?.confirmation_sent_at);
    const early = await client().auth.signInWithPassword({ email, password: PASSWORD });
    assertApiError(early.error, 400, 'email_not_confirmed');
    await sql`delete from auth.users where id = ${pending.data.user!.id}`;

    const { session, user } = await signUp(email, { display_name: 'Ada' });
    assert.equal(user.email, email.toLowerCase());
    assert.equal(user.aud, 'authenticated');
    assert.equal(user.role, 'authenticated');
    assert.ok(user.email_confirmed_at);
    assert.ok(user.last_sign_in_at);
    assert.deepEqual(user.app_metadata, { provider: 'email', providers: ['email'] });
    assert.deepEqual(user.user_metadata, { display_name: 'Ada', email_verified: true });
    assert.equal(session.token_type, 'bearer');
    assert.ok(session.expires_in > 3500 && session.expires_in <= 3600);
    assert.ok(Math.abs(session.expires_at! - (Math.floor(Date.now() / 1000) + 3600)) < 60);
    assert.match(session.refresh_token, /^[a-z0-9]{12}$/);

    const [row] = await sql`select encrypted_password, raw_user_meta_data from auth.users where id = ${user.id}`;
    assert.match(row!.encrypted_password, /^\$2[abxy]?\$10\$/, 'stored as a bcrypt hash, never the password');
    const [sessions] = await sql`select count(*)::int as n from auth.sessions where user_id = ${user.id}`;
    assert.equal(sessions!.n, 1);
  });

  it('answers a second sign-up of a confirmed address as GoTrue does: a made-up user, no session, no email', async () => {
    const { email, user } = await signUp();
    const mails = async () => (await (await fetch(`${stack.mailUrl}/api/messages?to=${encodeURIComponent(email)}`)).json()).length;
    const before = await mails();
    for (const again of [email, email.toUpperCase()]) {
      const { data, error } = await client().auth.signUp({ email: again, password: PASSWORD });
      assert.equal(error, null);
      assert.equal(data.session, null);
      assert.notEqual(data.user?.id, user.id, 'the real id is not revealed');
    }
    assert.equal(await mails(), before);
    const [row] = await sql`select count(*)::int as n from auth.users where lower(email) = ${email.toLowerCase()}`;
    assert.equal(row!.n, 1);
  });

  it('refuses weak passwords and invalid addresses with GoTrue codes', async () => {
    const weak = await client().auth.signUp({ email: uniqueEmail('weak'), password: 'short' });
    assert.equal(weak.error?.name, 'AuthWeakPasswordError');
    assert.equal(weak.error?.status, 422);
    assert.equal(weak.error?.code, 'weak_password');
    assert.deepEqual((weak.error as unknown as { reasons: string[] }).reasons, ['length']);

    const invalid = await client().auth.signUp({ email: 'not-an-address', password: PASSWORD });
    assertApiError(invalid.error, 400, 'validation_failed');
  });
});

describe('auth emulator: access tokens', () => {
  it('are ES256 JWTs with Supabase claims that verify against the JWKS with issuer and audience', async () => {
    const { session, user } = await signUp();
    const jwks = (await (await rawFetch('/.well-known/jwks.json')).json()) as JSONWebKeySet;
    const options = { issuer: authUrl(), audience: 'authenticated', algorithms: ['ES256'] };

    const { payload, protectedHeader } = await jwtVerify(session.access_token, createLocalJWKSet(jwks), options);
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(protectedHeader.kid, jwks.keys[0]!.kid);
    const remote = await jwtVerify(session.access_token, createRemoteJWKSet(new URL(`${authUrl()}/.well-known/jwks.json`)), options);
    assert.equal(remote.payload.sub, user.id);

    assert.equal(payload.iss, authUrl());
    assert.equal(payload.aud, 'authenticated');
    assert.equal(payload.sub, user.id);
    assert.equal(payload.role, 'authenticated');
    assert.equal(payload.email, user.email);
    assert.equal(payload.phone, '');
    assert.equal(payload.aal, 'aal1');
    assert.equal(payload.is_anonymous, false);
    assert.deepEqual(payload.app_metadata, { provider: 'email', providers: ['email'] });
    assert.deepEqual(payload.user_metadata, { email_verified: true });
    assert.match(String(payload.session_id), /^[0-9a-f-]{36}$/);
    const amr = payload.amr as { method: string; timestamp: number }[];
    assert.equal(amr[0]!.method, 'password');
    assert.ok(Math.abs(amr[0]!.timestamp - payload.iat!) < 60);
    assert.equal(payload.exp! - payload.iat!, 3600);

    await assert.rejects(
      jwtVerify(session.access_token, createLocalJWKSet(jwks), { ...options, issuer: 'https://elsewhere.example/auth/v1' }),
    );
    await assert.rejects(jwtVerify(session.access_token, createLocalJWKSet(jwks), { ...options, audience: 'anon' }));
  });
});

describe('auth emulator: forged token lifetimes', () => {
  it('refuses a correctly signed token without exp (GoTrue: 403 bad_jwt), and accepts the same claims with one', async () => {
    const { session } = await signUp();
    const claims = decodeJwt(session.access_token);
    const key = await importJWK(stack.privateJwk, 'ES256');
    const { exp: _exp, ...withoutExp } = claims;
    const forge = (payload: Record<string, unknown>) =>
      new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: stack.privateJwk.kid!, typ: 'JWT' }).sign(key);
    const getUser = async (token: string) =>
      rawFetch('/user', { headers: { authorization: `Bearer ${token}`, 'x-supabase-api-version': '2024-01-01' } });

    const control = await getUser(await forge({ ...withoutExp, exp: Math.floor(Date.now() / 1000) + 600 }));
    assert.equal(control.status, 200, 'the forging itself yields tokens the emulator accepts');
    const noExp = await getUser(await forge(withoutExp));
    assert.equal(noExp.status, 403);
    assert.deepEqual(await noExp.json(), {
      code: 'bad_jwt',
      message:
        'invalid JWT: unable to parse or verify signature, token has invalid claims: token is missing required claim: exp claim is required',
    });
  });
});

describe('auth emulator: user_metadata size', () => {
  const sized = (bytes: number) => ({ k: 'x'.repeat(bytes - 9) }); // {"k": "…"} as stored jsonb text

  it('refuses sign-up, updates and admin writes past 4096 bytes with 400 validation_failed, storing nothing', async () => {
    const email = uniqueEmail('meta-big');
    const refused = await client().auth.signUp({ email, password: PASSWORD, options: { data: sized(4097) } });
    assertApiError(refused.error, 400, 'validation_failed');
    assert.match(refused.error!.message, /user_metadata is too large/);
    assert.equal((await sql`select count(*)::int as n from auth.users where email = ${email}`)[0]!.n, 0);

    const admin = client(stack.serviceRoleKey);
    const created = await admin.auth.admin.createUser({ email: uniqueEmail('meta-admin'), password: PASSWORD, user_metadata: sized(5000) });
    assertApiError(created.error, 400, 'validation_failed');

    // Each part fits; merged with what is stored they do not.
    const { email: fitting, user } = await signUp(undefined, { a: 'y'.repeat(3000) });
    const c = client();
    await c.auth.signInWithPassword({ email: fitting, password: PASSWORD });
    const grown = await c.auth.updateUser({ data: { b: 'z'.repeat(3000) } });
    assertApiError(grown.error, 400, 'validation_failed');
    const byAdmin = await admin.auth.admin.updateUserById(user.id, { user_metadata: { b: 'z'.repeat(3000) } });
    assertApiError(byAdmin.error, 400, 'validation_failed');
    const [stored] = await sql`select raw_user_meta_data as m from auth.users where id = ${user.id}`;
    assert.deepEqual(Object.keys(stored!.m).sort(), ['a', 'email_verified']);

    const shrunk = await c.auth.updateUser({ data: { a: null, b: 'small' } });
    assert.equal(shrunk.error, null, 'replacing a large key with a small one fits');
  });
});

describe('auth emulator: password sign-in', () => {
  it('signs in, updates last_sign_in_at, and getUser returns the same user', async () => {
    const { email, user } = await signUp();
    await sql`update auth.users set last_sign_in_at = now() - interval '1 day' where id = ${user.id}`;
    const c = client();
    const { data, error } = await c.auth.signInWithPassword({ email: email.toUpperCase(), password: PASSWORD });
    assert.equal(error, null);
    assert.equal(data.user?.id, user.id);
    assert.ok(Date.now() - Date.parse(data.user!.last_sign_in_at!) < 60_000, 'last_sign_in_at moved to now');

    const fetched = await c.auth.getUser(data.session!.access_token);
    assert.equal(fetched.error, null);
    assert.equal(fetched.data.user?.id, user.id);
    assert.equal(fetched.data.user?.email, email);
  });

  it('answers a wrong password or an unknown address with AuthApiError invalid_credentials (400)', async () => {
    const { email } = await signUp();
    for (const credentials of [
      { email, password: 'wrong-password-123' },
      { email: uniqueEmail('nobody'), password: PASSWORD },
    ]) {
      const { data, error } = await client().auth.signInWithPassword(credentials);
      assertApiError(error, 400, 'invalid_credentials');
      assert.equal(error!.message, 'Invalid login credentials');
      assert.equal(data.session, null);
    }
  });

  it('speaks both GoTrue error formats, chosen by X-Supabase-Api-Version', async () => {
    const body = JSON.stringify({ email: uniqueEmail('nobody'), password: PASSWORD });
    const legacy = await rawFetch('/token?grant_type=password', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(legacy.status, 400);
    assert.deepEqual(await legacy.json(), { code: 400, error_code: 'invalid_credentials', msg: 'Invalid login credentials' });
    assert.equal(legacy.headers.get('x-sb-error-code'), 'invalid_credentials');

    const versioned = await rawFetch('/token?grant_type=password', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-supabase-api-version': '2024-01-01' },
    });
    assert.equal(versioned.status, 400);
    assert.equal(versioned.headers.get('x-supabase-api-version'), '2024-01-01');
    assert.deepEqual(await versioned.json(), { code: 'invalid_credentials', message: 'Invalid login credentials' });
  });

  it('refuses an admin-created user whose address is not confirmed', async () => {
    const email = uniqueEmail('unconfirmed');
    const created = await client(stack.serviceRoleKey).auth.admin.createUser({ email, password: PASSWORD });
    assert.equal(created.error, null);
    const { error } = await client().auth.signInWithPassword({ email, password: PASSWORD });
    assertApiError(error, 400, 'email_not_confirmed');
  });
});

describe('auth emulator: refresh token rotation', () => {
  it('rotates on every refresh, forgives one lost response, and treats later reuse as theft', async () => {
    const { session: first } = await signUp();
    const sessionId = String(decodeJwt(first.access_token).session_id);

    const second = await client().auth.refreshSession({ refresh_token: first.refresh_token });
    assert.equal(second.error, null);
    assert.notEqual(second.data.session!.refresh_token, first.refresh_token, 'a new refresh token each time');
    assert.equal(decodeJwt(second.data.session!.access_token).session_id, sessionId, 'same session');

    // GoTrue: presenting the parent of the active token means the client lost the last
    // response; it gets the active token back instead of a new one.
    const retried = await client().auth.refreshSession({ refresh_token: first.refresh_token });
    assert.equal(retried.error, null);
    assert.equal(retried.data.session!.refresh_token, second.data.session!.refresh_token);

    const third = await client().auth.refreshSession({ refresh_token: second.data.session!.refresh_token });
    assert.equal(third.error, null);
    const latest = third.data.session!.refresh_token;
    assert.notEqual(latest, second.data.session!.refresh_token);

    // The first token is now two generations old; once the reuse interval has passed it is refused.
    await ageRefreshTokens(sessionId);
    const reused = await client().auth.refreshSession({ refresh_token: first.refresh_token });
    assertApiError(reused.error, 400, 'refresh_token_already_used');
    assert.equal(reused.data.session, null);

    // Reuse revokes the whole session's tokens, including the latest one.
    const [row] = await sql`select revoked from auth.refresh_tokens where token = ${latest}`;
    assert.equal(row!.revoked, true);
    await ageRefreshTokens(sessionId);
    const afterTheft = await client().auth.refreshSession({ refresh_token: latest });
    assertApiError(afterTheft.error, 400, 'refresh_token_already_used');
  });

  it('serialises concurrent refreshes of one token: all succeed with the same new token', async () => {
    const { session } = await signUp();
    const results = await Promise.all(
      Array.from({ length: 6 }, () => client().auth.refreshSession({ refresh_token: session.refresh_token })),
    );
    for (const r of results) assert.equal(r.error, null);
    const issued = new Set(results.map((r) => r.data.session!.refresh_token));
    assert.equal(issued.size, 1, 'one rotation; the others get the active token back');
    assert.ok(!issued.has(session.refresh_token));
  });

  it('racing a sign-out against refreshes yields 400s, never a server error', async () => {
    const { email } = await signUp();
    const c = client();
    const s = (await c.auth.signInWithPassword({ email, password: PASSWORD })).data.session!;
    const body = JSON.stringify({ refresh_token: s.refresh_token });
    const [, ...refreshes] = await Promise.all([
      c.auth.signOut(),
      ...Array.from({ length: 5 }, () =>
        rawFetch('/token?grant_type=refresh_token', { method: 'POST', body, headers: { 'content-type': 'application/json' } }),
      ),
    ]);
    for (const res of refreshes) assert.ok(res.status === 200 || res.status === 400, `status ${res.status}`);
    const after = await client().auth.refreshSession({ refresh_token: s.refresh_token });
    assertApiError(after.error, 400, 'refresh_token_not_found');
  });

  it('refuses unknown and malformed refresh tokens', async () => {
    const unknown = await client().auth.refreshSession({ refresh_token: 'abcdefghijkl' });
    assertApiError(unknown.error, 400, 'refresh_token_not_found');
    const malformed = await client().auth.refreshSession({ refresh_token: 'not a token' });
    assertApiError(malformed.error, 400, 'validation_failed');
  });
});

describe('auth emulator: sign-out', () => {
  it('ends every session of the user by default; their refresh tokens stop working', async () => {
    const { email } = await signUp();
    const a = client();
    const b = client();
    const sa = (await a.auth.signInWithPassword({ email, password: PASSWORD })).data.session!;
    const sb = (await b.auth.signInWithPassword({ email, password: PASSWORD })).data.session!;

    const { error } = await a.auth.signOut();
    assert.equal(error, null);
    for (const s of [sa, sb]) {
      const refreshed = await client().auth.refreshSession({ refresh_token: s.refresh_token });
      assertApiError(refreshed.error, 400, 'refresh_token_not_found');
    }
    const user = await client().auth.getUser(sb.access_token);
    assert.equal(user.error?.name, 'AuthSessionMissingError', 'the access token names a session that is gone');
  });

  it('with scope local ends only the current session', async () => {
    const { email } = await signUp();
    const a = client();
    const b = client();
    const sa = (await a.auth.signInWithPassword({ email, password: PASSWORD })).data.session!;
    const sb = (await b.auth.signInWithPassword({ email, password: PASSWORD })).data.session!;
    assert.equal((await a.auth.signOut({ scope: 'local' })).error, null);
    assertApiError((await client().auth.refreshSession({ refresh_token: sa.refresh_token })).error, 400, 'refresh_token_not_found');
    const other = await client().auth.refreshSession({ refresh_token: sb.refresh_token });
    assert.equal(other.error, null);
  });

  it('answers 204 and refuses requests without a bearer token', async () => {
    const { session } = await signUp();
    const res = await rawFetch('/logout?scope=others', { method: 'POST', headers: { authorization: `Bearer ${session.access_token}` } });
    assert.equal(res.status, 204);
    const anonymous = await rawFetch('/logout', { method: 'POST' });
    assert.equal(anonymous.status, 401);
    assert.equal((await anonymous.json()).error_code, 'no_authorization');
  });
});

describe('auth emulator: updating the signed-in user', () => {
  it('merges user_metadata and changes the password', async () => {
    const { email } = await signUp(undefined, { display_name: 'Before', plan: 'free' });
    const c = client();
    await c.auth.signInWithPassword({ email, password: PASSWORD });
    const merged = await c.auth.updateUser({ data: { display_name: 'After', plan: null } });
    assert.equal(merged.error, null);
    assert.deepEqual(merged.data.user?.user_metadata, { display_name: 'After', email_verified: true });

    const same = await c.auth.updateUser({ password: PASSWORD });
    assertApiError(same.error, 422, 'same_password');
    const changed = await c.auth.updateUser({ password: 'a-brand-new-password' });
    assert.equal(changed.error, null);
    assertApiError((await client().auth.signInWithPassword({ email, password: PASSWORD })).error, 400, 'invalid_credentials');
    assert.equal((await client().auth.signInWithPassword({ email, password: 'a-brand-new-password' })).error, null);
  });
});

describe('auth emulator: admin API', () => {
  it('creates a platform admin with the service-role key; the role reaches the access token', async () => {
    const email = uniqueEmail('admin');
    const admin = client(stack.serviceRoleKey).auth.admin;
    const { data, error } = await admin.createUser({
      email,
      password: PASSWORD,
      email_confirm: true,
      app_metadata: { role: 'admin' },
      user_metadata: { display_name: 'Root' },
    });
    assert.equal(error, null);
    assert.equal(data.user?.email, email);
    assert.deepEqual(data.user?.app_metadata, { provider: 'email', providers: ['email'], role: 'admin' });
    assert.deepEqual(data.user?.user_metadata, { display_name: 'Root', email_verified: true });
    assert.ok(data.user?.email_confirmed_at);

    const signedIn = await client().auth.signInWithPassword({ email, password: PASSWORD });
    assert.equal(signedIn.error, null);
    assert.equal((decodeJwt(signedIn.data.session!.access_token).app_metadata as { role: string }).role, 'admin');

    const duplicate = await admin.createUser({ email, password: PASSWORD });
    assertApiError(duplicate.error, 422, 'email_exists');
  });

  it('refuses the anon key, a user token, and no token', async () => {
    const attempt = { email: uniqueEmail('sneaky'), password: PASSWORD, app_metadata: { role: 'admin' } };
    assertApiError((await client().auth.admin.createUser(attempt)).error, 403, 'not_admin');
    const { session } = await signUp();
    // The user's token as the bearer, the project's key as apikey (a user token is no API key:
    // the gateway refuses it in apikey with 401, as hosted's does).
    const asUser = createClient(stack.url, stack.anonKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      realtime: { transport: RealtimeNotUsedHere as never },
      global: { headers: { Authorization: `Bearer ${session.access_token}` } },
    });
    assertApiError((await asUser.auth.admin.createUser(attempt)).error, 403, 'not_admin');
    const none = await rawFetch('/admin/users', { method: 'POST', body: JSON.stringify(attempt) });
    assert.equal(none.status, 401);
    const [row] = await sql`select count(*)::int as n from auth.users where email = ${attempt.email}`;
    assert.equal(row!.n, 0, 'nothing was created');
  });

  it('gets and deletes users by id; a deleted user loses its sessions', async () => {
    const { user, session } = await signUp();
    const admin = client(stack.serviceRoleKey).auth.admin;
    const got = await admin.getUserById(user.id);
    assert.equal(got.error, null);
    assert.equal(got.data.user?.email, user.email);

    assert.equal((await admin.deleteUser(user.id)).error, null);
    assertApiError((await admin.getUserById(user.id)).error, 404, 'user_not_found');
    assertApiError((await client().auth.refreshSession({ refresh_token: session.refresh_token })).error, 400, 'refresh_token_not_found');
    const [row] = await sql`select count(*)::int as n from auth.users where id = ${user.id}`;
    assert.equal(row!.n, 0);
  });

  it('updates app_metadata by id with the service role', async () => {
    const { user } = await signUp();
    const admin = client(stack.serviceRoleKey).auth.admin;
    const { data, error } = await admin.updateUserById(user.id, { app_metadata: { role: 'admin' } });
    assert.equal(error, null);
    assert.deepEqual(data.user?.app_metadata, { provider: 'email', providers: ['email'], role: 'admin' });
  });
});

describe('auth emulator: bad input never becomes a 500', () => {
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    rawFetch(path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

  it('answers malformed bodies with GoTrue 4xx JSON', async () => {
    for (const [path, body] of [
      ['/signup', '{"email": '],
      ['/signup', '[1, 2]'],
      ['/signup', JSON.stringify({ email: 42, password: PASSWORD })],
      ['/token?grant_type=password', ''],
    ] as const) {
      const res = await post(path, body);
      assert.equal(res.status, 400, `${path} ${body}`);
      assert.equal((await res.json()).error_code, 'bad_json');
    }
    const unsupported = await post('/token?grant_type=magic', '{}');
    assert.equal(unsupported.status, 400);
    assert.equal((await unsupported.json()).error_code, 'invalid_credentials');
    const garbageToken = await rawFetch('/user', { headers: { authorization: 'Bearer not.a.jwt' } });
    assert.equal(garbageToken.status, 403);
    assert.equal((await garbageToken.json()).error_code, 'bad_jwt');
    const badId = await rawFetch('/admin/users/not-a-uuid', { headers: { authorization: `Bearer ${stack.serviceRoleKey}` } });
    assert.equal(badId.status, 404);
  });

  it('answers odd bodies on every endpoint without a server error', async () => {
    const { session, user } = await signUp();
    const bodies = [
      '',
      'null',
      '"text"',
      '{"email": null, "password": null}',
      '{"email": ["a"]}',
      '{"data": "x"}',
      '{"refresh_token": 12}',
      '{"password": "' + 'p'.repeat(100) + '"}',
      '{"app_metadata": {"role": "admin"}}',
      '{"email": "' + 'e'.repeat(300) + '@example.com", "password": "long-enough-1"}',
      '{"ban_duration": "forever"}',
      '{"id": "nope", "email": "x@example.com"}',
    ];
    const asUser = { authorization: `Bearer ${session.access_token}` };
    const asAdmin = { authorization: `Bearer ${stack.serviceRoleKey}` };
    const targets: [string, string, Record<string, string>][] = [
      ['POST', '/signup', {}],
      ['POST', '/token?grant_type=password', {}],
      ['POST', '/token?grant_type=refresh_token', {}],
      ['PUT', '/user', asUser],
      ['POST', '/admin/users', asAdmin],
      ['PUT', `/admin/users/${user.id}`, asAdmin],
      ['DELETE', '/admin/users/00000000-0000-4000-8000-000000000000', asAdmin],
    ];
    for (const [method, path, headers] of targets) {
      for (const body of bodies) {
        const res = await rawFetch(path, { method, body, headers: { 'content-type': 'application/json', ...headers } });
        const json = await res.json();
        const what = `${method} ${path} ${body.slice(0, 40)} → ${res.status}`;
        assert.ok(res.status < 500 || res.status === 501, what);
        if (res.status >= 400) {
          assert.equal(typeof json.error_code, 'string', what);
          assert.equal(typeof json.msg, 'string', what);
        }
      }
    }
    const page = await rawFetch('/admin/users?page=99999999999999999999', { headers: asAdmin });
    assert.equal(page.status, 400);
  });

  it('refuses a NUL character in any string (password, email, metadata, keys, query) with 400 validation_failed', async () => {
    const { session, user } = await signUp();
    const asUser = { authorization: `Bearer ${session.access_token}` };
    const asAdmin = { authorization: `Bearer ${stack.serviceRoleKey}` };
    const nul = '\u0000';
    const cases: [string, string, Record<string, string>, unknown][] = [
      ['POST', '/signup', {}, { email: uniqueEmail('nul'), password: `${PASSWORD}${nul}` }],
      ['POST', '/signup', {}, { email: uniqueEmail('nul'), password: PASSWORD, data: { name: `a${nul}b` } }],
      ['POST', '/signup', {}, { email: uniqueEmail('nul'), password: PASSWORD, data: { [`k${nul}`]: 1 } }],
      ['POST', '/token?grant_type=password', {}, { email: user.email, password: `${PASSWORD}${nul}` }],
      ['POST', '/token?grant_type=password', {}, { email: `${user.email}${nul}`, password: PASSWORD }],
      ['POST', '/token?grant_type=refresh_token', {}, { refresh_token: `abc${nul}` }],
      ['PUT', '/user', asUser, { data: { nested: [`x${nul}`] } }],
      ['PUT', '/user', asUser, { password: `new-password${nul}` }],
      ['POST', '/admin/users', asAdmin, { email: uniqueEmail('nul'), password: PASSWORD, user_metadata: { a: nul } }],
      ['PUT', `/admin/users/${user.id}`, asAdmin, { app_metadata: { plan: nul } }],
      ['GET', `/admin/users?page=1${encodeURIComponent(nul)}`, asAdmin, undefined],
    ];
    for (const [method, path, headers, body] of cases) {
      const res = await rawFetch(path, {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: { 'content-type': 'application/json', 'x-supabase-api-version': '2024-01-01', ...headers },
      });
      const json = await res.json();
      const what = `${method} ${path} ${JSON.stringify(body)} → ${res.status} ${JSON.stringify(json)}`;
      assert.equal(res.status, 400, what);
      assert.equal(json.code, 'validation_failed', what);
      assert.equal(res.headers.get('x-sb-error-code'), 'validation_failed', what);
    }
    // Nothing was stored: the user's metadata and password are what they were.
    const signedIn = await client().auth.signInWithPassword({ email: user.email!, password: PASSWORD });
    assert.equal(signedIn.error, null);
    assert.equal(JSON.stringify(signedIn.data.user?.user_metadata ?? {}).includes('\\u0000'), false);
  });

  it('refuses bodies over 1 MB with 413', async () => {
    const res = await post('/signup', 'a'.repeat(1024 * 1024 + 10));
    assert.equal(res.status, 413);
    assert.equal((await res.json()).error_code, 'request_entity_too_large');
  });

  it('answers what it does not offer with 501 not_implemented', async () => {
    for (const [method, path] of [
      ['POST', '/sso'],
      ['GET', '/settings'],
      ['POST', '/token?grant_type=pkce'],
    ] as const) {
      const res = await rawFetch(path, { method, body: method === 'POST' ? '{}' : undefined });
      assert.equal(res.status, 501, `${method} ${path}`);
      const body = await res.json();
      assert.equal(body.error_code, 'not_implemented');
      assert.match(body.msg, /not offered by the local auth emulator/);
    }
  });

  it('answers CORS preflights and sets the CORS headers on replies', async () => {
    const preflight = await fetch(`${authUrl()}/token?grant_type=password`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
    });
    assert.ok(preflight.status === 200 || preflight.status === 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    const allowed = preflight.headers.get('access-control-allow-headers') ?? '';
    for (const h of ['authorization', 'apikey', 'content-type', 'x-client-info', 'x-supabase-api-version']) {
      assert.ok(allowed.toLowerCase().includes(h), `${h} allowed`);
    }
    const health = await rawFetch('/health');
    assert.equal(health.headers.get('access-control-allow-origin'), '*');
  });
});
