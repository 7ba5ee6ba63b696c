// A separate process for the anonymous-limit test (env is read once per process, and the test
// stack raises the limit for its own suites): serves anonymous calls through createHandler
// in-process with the X-Forwarded-For values given as JSON on the command line, and prints each
// answer's status and Retry-After as JSON.
import { closeDb } from '../../../supabase/functions/_shared/platform/db.ts';
import { createHandler } from '../../../supabase/functions/_shared/platform/handler.ts';
import { json, Router } from '../../../supabase/functions/_shared/platform/http.ts';
import { backgroundSettled } from '../../../supabase/functions/_shared/platform/observability/background.ts';

const forwardedFor: string[] = JSON.parse(Deno.args[0]);
const handler = createHandler(new Router('ops-test-anon').on('GET', '/', () => Promise.resolve(json({ ok: true }))));
// All calls in one minute window: start again at the next minute when this one is nearly over.
const intoMinute = Date.now() % 60_000;
if (intoMinute > 50_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
const answers: { status: number; retry_after: string | null; code: string | null }[] = [];
for (const xff of forwardedFor) {
  const res = await handler(new Request('http://local/ops-test-anon', { headers: { 'x-forwarded-for': xff } }));
  const body = await res.json();
  answers.push({ status: res.status, retry_after: res.headers.get('retry-after'), code: body?.error?.code ?? null });
}
await backgroundSettled();
await closeDb();
console.log(JSON.stringify(answers));
