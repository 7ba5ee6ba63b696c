// The response cache (cached() around a GET route), in-process with real user tokens: answers
// are keyed by user, workspace, method and URL, so user B never receives what user A got; a
// change to the workspace invalidates them; only 200s are stored, for at most 5 minutes; the
// client's Cache-Control is honoured.
import { assertEquals, assertOk } from './assert.ts';
import { personalWorkspace, signUp, withDb } from './helpers/users.ts';
import { requireUser } from '../../supabase/functions/_shared/platform/auth.ts';
import { cached } from '../../supabase/functions/_shared/platform/response-cache.ts';
import { closeDb } from '../../supabase/functions/_shared/platform/db.ts';
import { createHandler } from '../../supabase/functions/_shared/platform/handler.ts';
import { HttpError, json, Router } from '../../supabase/functions/_shared/platform/http.ts';
import { backgroundSettled } from '../../supabase/functions/_shared/platform/observability/background.ts';

Deno.test({
  name: 'user B never receives what user A got; a workspace change invalidates; only 200s, at most 5 minutes',
  async fn() {
    const a = await signUp('ops-cache-a');
    const b = await signUp('ops-cache-b');
    const workspace = await personalWorkspace(a);
    let computed = 0;
    const handler = createHandler(
      new Router('ops-cache-test')
        .on(
          'GET',
          '/',
          cached(
            async ({ req }) => {
              const claims = req.headers.has('authorization') ? await requireUser(req) : null;
              return json({ caller: claims?.sub ?? 'anonymous', n: ++computed });
            },
            { ttlSeconds: 3_600 },
          ),
        )
        .on(
          'GET',
          '/teapot',
          cached(
            () => {
              computed++;
              throw new HttpError(418, 'teapot', 'not cached');
            },
            { ttlSeconds: 60 },
          ),
        ),
      { rateLimit: false },
    );
    const get = async (token: string | null, path = `/?workspace_id=${workspace}&view=summary`, headers: Record<string, string> = {}) => {
      const res = await handler(
        new Request(`http://local/ops-cache-test${path}`, {
          headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        }),
      );
      const body = await res.json();
      await backgroundSettled();
      return { cache: res.headers.get('x-cache'), status: res.status, body };
    };

    assertEquals(await get(a.token), { cache: 'MISS', status: 200, body: { caller: a.id, n: 1 } });
    assertEquals(await get(a.token), { cache: 'HIT', status: 200, body: { caller: a.id, n: 1 } });
    assertEquals(await get(b.token), { cache: 'MISS', status: 200, body: { caller: b.id, n: 2 } }, 'B: same URL, own answer');
    assertEquals(await get(b.token), { cache: 'HIT', status: 200, body: { caller: b.id, n: 2 } });
    assertEquals(await get(null), { cache: 'MISS', status: 200, body: { caller: 'anonymous', n: 3 } }, 'nor does an anonymous caller');
    assertEquals((await get(a.token, `/?workspace_id=${workspace}&view=detail`)).body.n, 4, 'another URL is another entry');

    const stored = await withDb(
      (sql) => sql`
      select user_id, workspace_id, extract(epoch from expires_at - created_at)::int as ttl
      from ops.response_cache where user_id = any (${[a.id, b.id]}) order by created_at`,
    );
    assertEquals(stored.length, 3);
    assertOk(
      stored.every((r) => r.workspace_id === workspace && r.ttl === 300),
      'TTL capped at 5 minutes',
    );

    await withDb((sql) => sql`update public.workspaces set name = 'Cache test renamed' where id = ${workspace}`);
    assertEquals(await get(a.token), { cache: 'MISS', status: 200, body: { caller: a.id, n: 5 } }, 'a workspace change invalidates');
    assertEquals((await get(b.token)).cache, 'MISS', 'for everyone');

    assertEquals((await get(a.token, undefined, { 'cache-control': 'no-cache' })).cache, 'MISS', 'no-cache skips the lookup');
    const n = computed;
    assertEquals((await get(a.token)).body.n, n, 'and stores the fresh answer');
    assertEquals((await get(a.token, '/?view=no-store', { 'cache-control': 'no-store' })).cache, 'MISS');
    assertEquals((await get(a.token, '/?view=no-store')).cache, 'MISS', 'no-store stores nothing');

    assertEquals((await get(a.token, '/teapot')).status, 418);
    const before = computed;
    assertEquals(await get(a.token, '/teapot').then((r) => [r.status, r.cache]), [418, null]);
    assertEquals(computed, before + 1, 'errors are never cached');
    await closeDb();
  },
});
