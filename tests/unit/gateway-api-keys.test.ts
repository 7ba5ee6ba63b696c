// The gateway's `apikey` check, in-process in front of a stand-in upstream that echoes what it
// received: each key kind (publishable, secret, legacy anon / service_role), unknown and revoked
// keys answered as hosted answers them, opaque keys never passing verify_jwt, the role JWT Auth
// gets for an opaque key, and a project that disabled its legacy keys.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { createApiKeyCheck } from '../../local/gateway/api-keys.ts';
import { createGateway } from '../../local/gateway/server.ts';
import { legacyApiKey, opaqueKey } from '../../local/stack/keys.ts';

const LEGACY_SECRET = 'legacy-jwt-secret-of-this-test-project-0123456789';
const publishable = opaqueKey('publishable');
const secret = opaqueKey('secret');
let anon: string;
let serviceRole: string;
let privateJwk: JWK;
let publicJwk: JWK;
let privateKey: CryptoKey;
let upstream: http.Server;
let upstreamUrl: string;
let hits: Array<{ url: string; authorization: string | null; apikey: string | null }> = [];
let both: Awaited<ReturnType<typeof createGateway>>;
let modernOnly: Awaited<ReturnType<typeof createGateway>>;

before(async () => {
  upstream = http.createServer((req, res) => {
    hits.push({ url: req.url ?? '', authorization: req.headers.authorization ?? null, apikey: (req.headers.apikey as string) ?? null });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey as CryptoKey;
  privateJwk = { ...(await exportJWK(pair.privateKey)), kid: 'kid-1', alg: 'ES256' };
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'kid-1', alg: 'ES256' };
  anon = await legacyApiKey(LEGACY_SECRET, 'anon');
  serviceRole = await legacyApiKey(LEGACY_SECRET, 'service_role');
  const common = { port: 0, authUrl: upstreamUrl, functionsUrl: upstreamUrl, publicJwk, privateJwk, verifyJwt: new Map([['open', false]]) };
  both = await createGateway({
    ...common,
    apiKeys: { publishableKeys: [publishable], secretKeys: [secret], legacyJwtSecret: LEGACY_SECRET },
  });
  modernOnly = await createGateway({ ...common, apiKeys: { publishableKeys: [publishable], secretKeys: [secret] } });
});

after(async () => {
  await both.close();
  await modernOnly.close();
  await new Promise<void>((r) => upstream.close(() => r()));
});

async function call(gw: { url: string }, path: string, headers: Record<string, string>) {
  hits = [];
  const res = await fetch(`${gw.url}${path}`, { headers });
  return { status: res.status, body: await res.json().catch(() => null) };
}

test('publishable and secret keys pass as anon and service_role; the function gets them as sent', async () => {
  const check = createApiKeyCheck({ publishableKeys: [publishable], secretKeys: [secret], legacyJwtSecret: LEGACY_SECRET });
  assert.deepEqual(await check(publishable), { ok: true, role: 'anon', kind: 'publishable' });
  assert.deepEqual(await check(secret), { ok: true, role: 'service_role', kind: 'secret' });
  assert.deepEqual(await check(anon), { ok: true, role: 'anon', kind: 'legacy' });
  assert.deepEqual(await check(serviceRole), { ok: true, role: 'service_role', kind: 'legacy' });
  assert.deepEqual(await check(undefined), { ok: true, role: null, kind: 'none' });

  const r = await call(both, '/functions/v1/open/worker', { apikey: secret });
  assert.equal(r.status, 200);
  assert.deepEqual(hits, [{ url: '/open/worker', authorization: null, apikey: secret }]);
});

test('an unknown, deleted or other project\'s sb_ key is 401 "Unregistered API key" before anything runs', async () => {
  for (const key of [opaqueKey('secret'), opaqueKey('publishable'), 'sb_other_0123456789abcdef']) {
    const r = await call(both, '/functions/v1/open', { apikey: key });
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, {
      message: 'Unregistered API key',
      hint: 'Double check the provided API key as it is not registered for this project.',
    });
    assert.deepEqual(hits, []);
  }
  const garbage = await call(both, '/auth/v1/health', { apikey: 'not-a-key' });
  assert.equal(garbage.status, 401);
  assert.equal(garbage.body.message, 'Invalid API key');
  assert.deepEqual(hits, []);
});

test('a legacy key signed with another secret, or a user token in apikey, is "Invalid API key"', async () => {
  const foreign = await legacyApiKey('another-projects-jwt-secret-0123456789abcdef', 'service_role');
  const userToken = await new SignJWT({ sub: 'u1', role: 'authenticated' })
    .setProtectedHeader({ alg: 'ES256', kid: 'kid-1' })
    .setExpirationTime('1h')
    .sign(privateKey);
  for (const key of [foreign, userToken]) {
    const r = await call(both, '/functions/v1/open', { apikey: key });
    assert.equal(r.status, 401);
    assert.equal(r.body.message, 'Invalid API key');
  }
});

test('a secret key sent by a browser is refused', async () => {
  const r = await call(both, '/functions/v1/open', { apikey: secret, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0' });
  assert.equal(r.status, 401);
  assert.equal(r.body.message, 'Forbidden use of secret API key in browser');
  assert.deepEqual(hits, []);
  const publishableInBrowser = await call(both, '/functions/v1/open', { apikey: publishable, 'user-agent': 'Mozilla/5.0' });
  assert.equal(publishableInBrowser.status, 200);
});

test('an opaque key is never a JWT to verify_jwt, whichever key it is; legacy keys still pass it', async () => {
  for (const key of [secret, publishable]) {
    const r = await call(both, '/functions/v1/secure', { apikey: key, authorization: `Bearer ${key}` });
    assert.equal(r.status, 401);
    assert.equal(r.body.message, 'Invalid JWT');
    assert.deepEqual(hits, []);
  }
  const legacy = await call(both, '/functions/v1/secure', { apikey: serviceRole, authorization: `Bearer ${serviceRole}` });
  assert.equal(legacy.status, 200);
  assert.equal(hits[0].authorization, `Bearer ${serviceRole}`);
});

test('verify_jwt refuses a user token with a foreign kid or a tampered payload', async () => {
  const other = await generateKeyPair('ES256');
  const foreign = await new SignJWT({ sub: 'u1', role: 'authenticated' })
    .setProtectedHeader({ alg: 'ES256', kid: 'kid-2' })
    .setExpirationTime('1h')
    .sign(other.privateKey);
  const good = await new SignJWT({ sub: 'u1', role: 'authenticated' })
    .setProtectedHeader({ alg: 'ES256', kid: 'kid-1' })
    .setExpirationTime('1h')
    .sign(privateKey);
  const [h, , sig] = good.split('.');
  const tampered = `${h}.${Buffer.from(JSON.stringify({ sub: 'u1', role: 'service_role', exp: 9999999999 })).toString('base64url')}.${sig}`;
  for (const token of [foreign, tampered]) {
    const r = await call(both, '/functions/v1/secure', { apikey: publishable, authorization: `Bearer ${token}` });
    assert.equal(r.status, 401);
    assert.equal(r.body.message, 'Invalid JWT');
  }
  assert.equal((await call(both, '/functions/v1/secure', { apikey: publishable, authorization: `Bearer ${good}` })).status, 200);
});

test("Auth gets a short-lived JWT of the key's role for an opaque key, and a user's own token otherwise", async () => {
  await call(both, '/auth/v1/admin/users', { apikey: secret, authorization: `Bearer ${secret}` });
  const minted = hits[0].authorization!.replace(/^Bearer /, '');
  assert.equal(decodeJwt(minted).role, 'service_role');
  assert.equal(decodeProtectedHeader(minted).kid, 'kid-1');
  assert.ok((decodeJwt(minted).exp as number) - Date.now() / 1000 <= 300);

  await call(both, '/auth/v1/settings', { apikey: publishable });
  assert.equal(decodeJwt(hits[0].authorization!.replace(/^Bearer /, '')).role, 'anon');

  const user = await new SignJWT({ sub: 'u1', role: 'authenticated' })
    .setProtectedHeader({ alg: 'ES256', kid: 'kid-1' })
    .setExpirationTime('1h')
    .sign(privateKey);
  await call(both, '/auth/v1/user', { apikey: publishable, authorization: `Bearer ${user}` });
  assert.equal(hits[0].authorization, `Bearer ${user}`, 'a user token is passed on unchanged');

  await call(both, '/auth/v1/admin/users', { apikey: serviceRole, authorization: `Bearer ${serviceRole}` });
  assert.equal(hits[0].authorization, `Bearer ${serviceRole}`, 'a legacy key is a JWT already');
});

test('a project that disabled its legacy keys answers "Legacy API keys are disabled", and its new keys still work', async () => {
  for (const key of [anon, serviceRole]) {
    const r = await call(modernOnly, '/functions/v1/open', { apikey: key });
    assert.equal(r.status, 401);
    assert.equal(r.body.message, 'Legacy API keys are disabled');
    assert.deepEqual(hits, []);
  }
  const legacyBearer = await call(modernOnly, '/functions/v1/secure', { authorization: `Bearer ${serviceRole}` });
  assert.equal(legacyBearer.status, 401, 'nor does verify_jwt take a token signed with the revoked JWT secret');
  assert.equal((await call(modernOnly, '/functions/v1/open', { apikey: secret })).status, 200);
});
