// Router additions used by the tenancy functions: the declared route list, and a path segment
// that cannot be decoded is the caller's mistake (400), not a crash (500).
import { assertEquals } from './assert.ts';
import { createHandler } from '../../supabase/functions/_shared/platform/handler.ts';
import { json, Router } from '../../supabase/functions/_shared/platform/http.ts';
import { inProcessTest } from './helpers/in-process.ts';

const router = new Router('demo')
  .on('GET', '/', () => json({ root: true }))
  .on('delete', '/items/:id', ({ params }) => json({ id: params.id }));
const handler = createHandler(router);

inProcessTest('list() returns every declared route with its method and path', () => {
  assertEquals(router.list(), [
    { method: 'GET', path: '/' },
    { method: 'DELETE', path: '/items/:id' },
  ]);
});

inProcessTest('a path segment with broken percent-encoding is 400 naming the parameter', async () => {
  const res = await handler(new Request('http://x/demo/items/%E0%A4%A', { method: 'DELETE' }));
  assertEquals(res.status, 400);
  const body = await res.json();
  assertEquals(body.error.code, 'validation_failed');
  assertEquals(body.error.details, [{ path: 'id', message: 'bad percent-encoding' }]);
  const ok = await handler(new Request('http://x/demo/items/a%20b', { method: 'DELETE' }));
  assertEquals(await ok.json(), { id: 'a b' });
});
