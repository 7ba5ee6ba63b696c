// A separate process for the ENABLE_RATE_LIMITING test (env is read once per process): sends
// three requests with the given user token through createHandler in-process and prints their
// statuses as JSON.
import { closeDb } from '../../../supabase/functions/_shared/platform/db.ts';
import { createHandler } from '../../../supabase/functions/_shared/platform/handler.ts';
import { json, Router } from '../../../supabase/functions/_shared/platform/http.ts';
import { backgroundSettled } from '../../../supabase/functions/_shared/platform/observability/background.ts';

const [token] = Deno.args;
const handler = createHandler(
  new Router('ops-limit-flag').on('GET', '/', () => json({ ok: true })),
  { track: false },
);
const statuses: number[] = [];
for (let i = 0; i < 3; i++) {
  const res = await handler(new Request('http://local/ops-limit-flag', { headers: { authorization: `Bearer ${token}` } }));
  await res.body?.cancel();
  statuses.push(res.status);
}
await backgroundSettled();
await closeDb();
console.log(JSON.stringify(statuses));
