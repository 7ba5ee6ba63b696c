// A separate process for the flag tests (env is read once per process): serves two calls through
// createHandler in-process (one fine, one that throws) with the request ids given on the command
// line, waits until every background write is done, and exits.
import { closeDb } from '../../../supabase/functions/_shared/platform/db.ts';
import { createHandler } from '../../../supabase/functions/_shared/platform/handler.ts';
import { json, Router } from '../../../supabase/functions/_shared/platform/http.ts';
import { backgroundSettled } from '../../../supabase/functions/_shared/platform/observability/background.ts';

const [okId, failingId] = Deno.args;
const handler = createHandler(
  new Router('ops-flags')
    .on('GET', '/', () => json({ ok: true }))
    .on('GET', '/fail', () => {
      throw new Error('flag test failure');
    }),
);
console.error = () => {};
for (const [path, id] of [
  ['/', okId],
  ['/fail', failingId],
]) {
  const res = await handler(new Request(`http://local/ops-flags${path}`, { headers: { 'x-request-id': id } }));
  await res.body?.cancel();
}
await backgroundSettled();
await closeDb();
