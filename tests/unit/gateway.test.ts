// The gateway in-process in front of a stand-in upstream: verify_jwt per function (each bad
// token case is refused before the function runs), URL layout, CORS preflight, 501s.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { createJwtCheck } from '../../local/gateway/jwt-check.ts';
import { createGateway } from '../../local/gateway/server.ts';
import { DROP_MAX_BYTES } from '../../local/unread-body.ts';
import { rawConnection } from './raw-http.ts';

let upstreamHits: string[] = [];
let upstream: http.Server;
let gateway: Awaited<ReturnType<typeof createGateway>>;
let privateKey: CryptoKey;
let kid: string;
let publicJwk: JWK;

before(async () => {
  upstream = http.createServer((req, res) => {
    upstreamHits.push(`${req.method} ${req.url}`);
    if (req.url?.startsWith('/open/refuse-large')) return refuseLargeBody(req, res);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, auth: req.headers.authorization ?? null, xff: req.headers['x-forwarded-for'] ?? null }));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const port = (upstream.address() as { port: number }).port;
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey as CryptoKey;
  kid = 'test-kid';
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256' };
  gateway = await createGateway({
    port: 0,
    authUrl: `http://127.0.0.1:${port}`,
    functionsUrl: `http://127.0.0.1:${port}`,
    publicJwk,
    verifyJwt: new Map([['open', false]]),
  });
});

/** What a function does with a body over its limit: reads up to it, answers 413, reads no further. */
function refuseLargeBody(req: http.IncomingMessage, res: http.ServerResponse) {
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > 1024 * 1024 && !res.headersSent) {
      req.pause();
      res.writeHead(413, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'payload_too_large', message: 'request body exceeds 1048576 bytes' } }));
    }
  });
}

after(async () => {
  await gateway.close();
  await new Promise<void>((r) => upstream.close(() => r()));
});

const sign = (claims: Record<string, unknown>, exp = '1h', key: CryptoKey = privateKey) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid }).setIssuedAt().setExpirationTime(exp).sign(key);

async function call(path: string, token?: string, method = 'GET') {
  upstreamHits = [];
  const res = await fetch(`${gateway.url}${path}`, {
    method,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: await res.json().catch(() => null), headers: res.headers };
}

function b64url(s: string) {
  return Buffer.from(s).toString('base64url');
}

test('a valid token reaches the function with the /functions/v1 prefix stripped', async () => {
  const token = await sign({ sub: 'u1', role: 'authenticated' });
  const r = await call('/functions/v1/secure/items/1?x=2', token);
  assert.equal(r.status, 200);
  assert.equal(r.body.path, '/secure/items/1?x=2');
  assert.equal(r.body.auth, `Bearer ${token}`);
});

test('verify_jwt refuses missing, malformed, wrongly signed, expired, exp-less and alg:none tokens before the function runs', async () => {
  const other = (await generateKeyPair('ES256')).privateKey as CryptoKey;
  const expired = await new SignJWT({ sub: 'u1', role: 'authenticated' })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
    .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
    .sign(privateKey);
  const none = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify({ sub: 'u1', role: 'service_role', exp: 9999999999 }))}.`;
  const cases: Array<[string, string | undefined, RegExp]> = [
    ['missing', undefined, /Missing authorization/],
    ['malformed', 'not.a.jwt', /Invalid JWT/],
    ['wrong key', await sign({ sub: 'u1', role: 'authenticated' }, '1h', other), /Invalid JWT/],
    ['expired', expired, /JWT expired/],
    ['alg none', none, /Invalid JWT/],
    [
      'no exp',
      await new SignJWT({ sub: 'u1', role: 'authenticated' }).setProtectedHeader({ alg: 'ES256', kid }).setIssuedAt().sign(privateKey),
      /Invalid JWT/,
    ],
  ];
  for (const [name, token, message] of cases) {
    const r = await call('/functions/v1/secure', token);
    assert.equal(r.status, 401, name);
    assert.match(r.body.message, message, name);
    assert.deepEqual(upstreamHits, [], `${name}: the function must not run`);
  }
});

test('a function with verify_jwt = false runs without a token', async () => {
  const r = await call('/functions/v1/open');
  assert.equal(r.status, 200);
  assert.equal(r.body.path, '/open');
});

test('auth is forwarded under /auth/v1 with the prefix stripped', async () => {
  const r = await call('/auth/v1/token?grant_type=password', undefined, 'POST');
  assert.equal(r.status, 200);
  assert.equal(r.body.path, '/token?grant_type=password');
});

test('CORS preflight is answered by the gateway', async () => {
  const res = await fetch(`${gateway.url}/functions/v1/secure`, { method: 'OPTIONS' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.match(res.headers.get('access-control-allow-headers') ?? '', /apikey/);
});

test('APIs the local stack does not offer answer 501 with a message', async () => {
  for (const path of ['/rest/v1/workspaces', '/storage/v1/object', '/realtime/v1/websocket']) {
    const r = await call(path);
    assert.equal(r.status, 501, path);
    assert.match(r.body.message, /not offered by the local stack/);
  }
  assert.equal((await call('/nothing/here')).status, 404);
});

test('a malformed signing key stops the gateway at start-up', async () => {
  await assert.rejects(
    createGateway({
      port: 0,
      authUrl: 'http://127.0.0.1:1',
      functionsUrl: 'http://127.0.0.1:1',
      publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' },
      verifyJwt: new Map(),
    }),
  );
});

test('an upstream that is down gives 502 with the upstream named', async () => {
  const down = await createGateway({
    port: 0,
    authUrl: 'http://127.0.0.1:1',
    functionsUrl: 'http://127.0.0.1:1',
    publicJwk,
    verifyJwt: new Map([['open', false]]),
  });
  try {
    const res = await fetch(`${down.url}/functions/v1/open`);
    assert.equal(res.status, 502);
    assert.match((await res.json()).message, /functions is unavailable/);
  } finally {
    await down.close();
  }
});

test('a remembered token is refused once it expires, and a forged one is never taken from the cache', async () => {
  let clock = Date.now();
  const check = await createJwtCheck(publicJwk, () => clock);
  const token = await sign({ sub: 'u1', role: 'authenticated' }, '2m');
  assert.deepEqual(await check(`Bearer ${token}`), { ok: true });
  assert.deepEqual(await check(`Bearer ${token}`), { ok: true }, 'second time, from the cache');
  // Same header and payload, another signature: it is a different token and is checked again.
  const [h, p] = token.split('.');
  assert.deepEqual(await check(`Bearer ${h}.${p}.${b64url('forged-signature-bytes-000000000000000000000000000000000000000000000')}`), {
    ok: false,
    message: 'Invalid JWT',
  });
  clock += 3 * 60_000;
  assert.deepEqual(await check(`Bearer ${token}`), { ok: false, message: 'JWT expired' });
  assert.deepEqual(await check(`Bearer ${token}`), { ok: false, message: 'JWT expired' }, 'and stays refused after leaving the cache');
});

test('X-Forwarded-For ends with the address that connected, after whatever the caller sent', async () => {
  const plain = await call('/functions/v1/open');
  assert.equal(plain.body.xff, '127.0.0.1');
  const res = await fetch(`${gateway.url}/functions/v1/open`, { headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.1' } });
  const body = await res.json();
  assert.equal(body.xff, '203.0.113.9, 198.51.100.1, 127.0.0.1', "the caller's entries come first; the last is the gateway's");
});

// Before the fix the gateway stopped reading such a body: the client's upload stalled until the
// keep-alive timeout reset the connection 65 s later. The timeouts are generous bounds on that.
test('a chunked upload refused early with 413 completes, and the connection serves the next request', { timeout: 20_000 }, async () => {
  const c = rawConnection(gateway.url);
  await c.upload('/functions/v1/open/refuse-large', 8 * 1024 * 1024);
  c.socket.write('GET /functions/v1/open HTTP/1.1\r\nhost: gateway\r\n\r\n');
  await c.until(() => c.answers().length === 2 || c.isClosed());
  assert.deepEqual(c.answers(), [413, 200]);
  c.socket.destroy();
});

test(
  'a chunked upload refused by verify_jwt completes with 401, and the connection serves the next request',
  { timeout: 20_000 },
  async () => {
    upstreamHits = [];
    const c = rawConnection(gateway.url);
    await c.upload('/functions/v1/secure', 8 * 1024 * 1024);
    c.socket.write('GET /functions/v1/open HTTP/1.1\r\nhost: gateway\r\n\r\n');
    await c.until(() => c.answers().length === 2 || c.isClosed());
    assert.deepEqual(c.answers(), [401, 200]);
    assert.deepEqual(upstreamHits, ['GET /open'], 'the refused upload never reached the function');
    c.socket.destroy();
  },
);

test('a client that asked to close gets its 413 and a closed connection, not a reset under its upload', { timeout: 20_000 }, async () => {
  for (let i = 0; i < 5; i++) {
    const c = rawConnection(gateway.url);
    await c.upload('/functions/v1/open/refuse-large', 8 * 1024 * 1024, 'connection: close\r\n');
    await c.until(c.isClosed);
    assert.deepEqual(c.answers(), [413], `upload ${i + 1}`);
    assert.deepEqual(
      c.errors().filter((e) => e === 'ECONNRESET' || e === 'EPIPE'),
      [],
      `upload ${i + 1}`,
    );
  }
});

test('an upload that goes on past what the gateway drops is answered, then its connection closed', { timeout: 20_000 }, async () => {
  const c = rawConnection(gateway.url);
  const limit = 4 * DROP_MAX_BYTES;
  const sent = await c.upload('/functions/v1/open/refuse-large', limit);
  await c.until(c.isClosed);
  assert.deepEqual(c.answers(), [413]);
  assert.ok(sent < limit, `the gateway closed the connection after dropping its share (sent ${sent} of ${limit} bytes)`);
});
