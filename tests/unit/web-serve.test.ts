import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { serveWeb, type ServedWeb } from '../../web/scripts/serve.mjs';

const BIG_JS = Array.from({ length: 400 }, (_, i) => `export const v${i} = ${i};`).join('\n');
let dir: string;
let served: ServedWeb;
const config = { supabaseUrl: 'http://127.0.0.1:54321', supabaseAnonKey: 'anon-key' };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'web-serve-'));
  mkdirSync(join(dir, '_app/immutable/chunks'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
  writeFileSync(join(dir, 'favicon.svg'), '<svg/>');
  writeFileSync(join(dir, '_app/immutable/chunks/a.js'), 'export const a = 1;');
  writeFileSync(join(dir, '_app/immutable/chunks/big.js'), BIG_JS);
  writeFileSync(join(dir, '..', 'web-serve-secret.txt'), 'outside');
  served = await serveWeb({ port: 0, buildDir: dir, config });
});

after(async () => {
  await served?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(dir, '..', 'web-serve-secret.txt'), { force: true });
});

test('/config.json is generated from the config and never cached', async () => {
  const res = await fetch(`${served.url}/config.json`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.match(res.headers.get('content-type')!, /application\/json/);
  assert.deepEqual(await res.json(), config);
});

test('files are served with their type; hashed assets are immutable', async () => {
  const js = await fetch(`${served.url}/_app/immutable/chunks/a.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type')!, /javascript/);
  assert.match(js.headers.get('cache-control')!, /immutable/);
  assert.equal(await js.text(), 'export const a = 1;');
  const svg = await fetch(`${served.url}/favicon.svg`);
  assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
  assert.equal(svg.headers.get('cache-control'), 'no-cache');
  assert.equal(svg.headers.get('x-content-type-options'), 'nosniff');
});

test('client-side routes get index.html; missing assets get 404', async () => {
  for (const path of ['/', '/workspace', '/accept?token=abc', '/deep/nested/route']) {
    const res = await fetch(`${served.url}${path}`);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type')!, /text\/html/);
    assert.equal(await res.text(), '<!doctype html><title>app</title>');
  }
  for (const path of ['/_app/immutable/chunks/missing.js', '/missing.png']) {
    const res = await fetch(`${served.url}${path}`);
    assert.equal(res.status, 404, path);
    await res.arrayBuffer();
  }
});

test('no file outside the build directory is reachable', async () => {
  for (const path of ['/..%2fweb-serve-secret.txt', '/%2e%2e/web-serve-secret.txt', '/_app/..%2f..%2fweb-serve-secret.txt']) {
    const res = await fetch(`${served.url}${path}`);
    const body = await res.text();
    assert.notEqual(body, 'outside', path);
    assert.equal(res.status, 404, path);
  }
});

test('only GET and HEAD', async () => {
  const post = await fetch(`${served.url}/config.json`, { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  await post.arrayBuffer();
  const head = await fetch(`${served.url}/workspace`, { method: 'HEAD' });
  assert.equal(head.status, 200);
});

test('a config without a URL or key is refused at start', async () => {
  await assert.rejects(serveWeb({ port: 0, buildDir: dir, config: { supabaseUrl: '', supabaseAnonKey: 'k' } }), /supabaseUrl/);
  await assert.rejects(serveWeb({ port: 0, buildDir: dir, config: { supabaseUrl: 'http://x', supabaseAnonKey: '' } }), /supabaseAnonKey/);
  await assert.rejects(serveWeb({ port: 0, buildDir: join(dir, 'nope'), config }), /build the web app first/);
});

test('text assets are gzip-compressed when accepted, identical once decompressed', async () => {
  const get = (encoding: string) =>
    new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolveGet, reject) => {
      http
        .get(`${served.url}/_app/immutable/chunks/big.js`, { headers: { 'accept-encoding': encoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c)).on('end', () => resolveGet({ headers: res.headers, body: Buffer.concat(chunks) }));
        })
        .on('error', reject);
    });
  const zipped = await get('gzip, deflate, br');
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.equal(zipped.headers.vary, 'Accept-Encoding');
  assert.ok(zipped.body.length < BIG_JS.length / 2, `compressed ${zipped.body.length} of ${BIG_JS.length} bytes`);
  assert.equal(gunzipSync(zipped.body).toString(), BIG_JS);
  const plain = await get('identity');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.body.toString(), BIG_JS);
});
