// The platform every function shares: envelope, headers, router verdicts, body limits, validation.
import { assertEquals, assertMatch } from './assert.ts';
import { z } from 'zod';
import { createHandler } from '../../supabase/functions/_shared/platform/handler.ts';
import { HttpError, json, readJson, Router, validate } from '../../supabase/functions/_shared/platform/http.ts';
import { inProcessTest } from './helpers/in-process.ts';

const router = new Router('demo')
  .on('GET', '/', () => json({ root: true }))
  .on('GET', '/items/:id', ({ params }) => json({ id: params.id }))
  .on('POST', '/items', async ({ req }) => {
    const body = validate(z.object({ name: z.string().min(1), count: z.number().int().positive() }), await readJson(req));
    return json(body, 201);
  })
  .on('GET', '/boom', () => {
    throw new Error('secret internals at /srv/app.ts:12');
  })
  .on('GET', '/teapot', () => {
    throw new HttpError(418, 'teapot', 'short and stout', { spout: true });
  });
const handler = createHandler(router);
const call = (path: string, init?: RequestInit) => handler(new Request(`http://x/demo${path}`, init));

inProcessTest('every response carries the security headers, CORS and a request id', async () => {
  for (const path of ['/', '/nope', '/boom']) {
    const res = await call(path);
    await res.body?.cancel();
    assertEquals(res.headers.get('x-content-type-options'), 'nosniff');
    assertEquals(res.headers.get('x-frame-options'), 'DENY');
    assertEquals(res.headers.get('cache-control'), 'no-store');
    assertEquals(res.headers.get('access-control-allow-origin'), '*');
    assertMatch(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  }
});

inProcessTest('path parameters are routed below the function name', async () => {
  assertEquals(await (await call('/')).json(), { root: true });
  assertEquals(await (await call('/items/a%20b')).json(), { id: 'a b' });
});

inProcessTest('unknown route is 404 and wrong method is 405 with Allow', async () => {
  const missing = await call('/unknown');
  assertEquals(missing.status, 404);
  assertEquals((await missing.json()).error.code, 'not_found');
  const wrong = await call('/items', { method: 'DELETE' });
  assertEquals(wrong.status, 405);
  assertEquals(wrong.headers.get('allow'), 'POST, OPTIONS');
  assertEquals((await wrong.json()).error.code, 'method_not_allowed');
});

inProcessTest('bad JSON is 400, oversized body is 413, invalid fields are 400 naming each path', async () => {
  const bad = await call('/items', { method: 'POST', body: '{"name":' });
  assertEquals(bad.status, 400);
  assertEquals((await bad.json()).error.code, 'invalid_json');
  const big = await call('/items', { method: 'POST', body: JSON.stringify({ name: 'x'.repeat(1_100_000), count: 1 }) });
  assertEquals(big.status, 413);
  await big.body?.cancel();
  const invalid = await call('/items', { method: 'POST', body: JSON.stringify({ name: '', count: -1 }) });
  assertEquals(invalid.status, 400);
  const err = (await invalid.json()).error;
  assertEquals(err.code, 'validation_failed');
  assertEquals(err.details.map((d: { path: string }) => d.path).sort(), ['count', 'name']);
  const ok = await call('/items', { method: 'POST', body: JSON.stringify({ name: 'a', count: 2 }) });
  assertEquals(ok.status, 201);
  assertEquals(await ok.json(), { name: 'a', count: 2 });
});

inProcessTest('an unhandled error gives the envelope with the request id and never the stack', async () => {
  const original = console.error;
  console.error = () => {};
  try {
    const res = await call('/boom', { headers: { 'x-request-id': 'req-12345678' } });
    assertEquals(res.status, 500);
    const text = await res.text();
    assertEquals(text.includes('/srv/app.ts'), false);
    assertEquals(text.includes('secret internals'), false);
    const body = JSON.parse(text);
    assertEquals(body.error.code, 'internal_error');
    assertEquals(body.error.request_id, 'req-12345678');
    assertEquals(res.headers.get('x-request-id'), 'req-12345678');
  } finally {
    console.error = original;
  }
});

inProcessTest('HttpError keeps its status, code, message and details', async () => {
  const res = await call('/teapot');
  assertEquals(res.status, 418);
  const body = await res.json();
  assertEquals(body.error.code, 'teapot');
  assertEquals(body.error.message, 'short and stout');
  assertEquals(body.error.details, { spout: true });
});

inProcessTest('CORS preflight is answered without running the route', async () => {
  const res = await call('/boom', { method: 'OPTIONS' });
  assertEquals(res.status, 204);
  assertMatch(res.headers.get('access-control-allow-headers') ?? '', /authorization/);
});
