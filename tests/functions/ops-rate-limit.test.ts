// Rate limits: MAX_API_REQUESTS_PER_MINUTE (100 on the stack) per user across all functions and
// instances; the 101st request of a minute is 429 with Retry-After and X-RateLimit-* headers;
// other users, the service role and health are not affected.
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import { callFunction, signUp, stack, withDb, type Answer } from './helpers/users.ts';
import { requestId, trackedCalls } from './helpers/ops.ts';
import { helperResult } from './helpers/process.ts';

const LIMIT = Number(Deno.env.get('MAX_API_REQUESTS_PER_MINUTE') ?? '100');

/** Waits for a fresh minute when too little of this one is left for the test (database clock). */
async function roomInThisMinute(seconds: number) {
  const [{ left }] = await withDb((sql) => sql`select 60 - extract(second from now())::float8 as left`);
  if (left < seconds) await new Promise((r) => setTimeout(r, (left + 0.5) * 1000));
}

Deno.test(`the ${LIMIT + 1}st request of a minute is 429 with Retry-After and X-RateLimit-* headers`, async () => {
  const user = await signUp('ops-rl');
  const other = await signUp('ops-rl-other');
  await roomInThisMinute(25);

  const answers: Answer[] = [];
  for (let batch = 0; batch < LIMIT / 10; batch++) {
    answers.push(...(await Promise.all(Array.from({ length: 10 }, () => user.call('admin-alerts')))));
  }
  assertEquals(answers.filter((a) => a.status === 403).length, LIMIT, 'the first 100 reach the function (a non-admin: 403)');
  for (const a of answers) assertEquals(a.headers.get('x-ratelimit-limit'), String(LIMIT));
  assertEquals(
    answers.map((a) => Number(a.headers.get('x-ratelimit-remaining'))).sort((x, y) => x - y),
    Array.from({ length: LIMIT }, (_, i) => i),
    'each request counted once: remaining runs from 99 down to 0',
  );

  const id = requestId('rl-over');
  const over = await user.call('admin-alerts', { headers: { 'x-request-id': id } });
  assertEquals(over.status, 429);
  assertEquals(over.body.error.code, 'rate_limited');
  assertEquals(over.body.error.request_id, id);
  const retryAfter = Number(over.headers.get('retry-after'));
  assertOk(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  assertEquals(over.headers.get('x-ratelimit-limit'), String(LIMIT));
  assertEquals(over.headers.get('x-ratelimit-remaining'), '0');
  const reset = Number(over.headers.get('x-ratelimit-reset'));
  const now = Date.now() / 1000;
  assertOk(reset > now - 2 && reset <= now + 61, `X-RateLimit-Reset ${reset} is the end of this minute (epoch seconds)`);
  assertMatch(over.headers.get('access-control-expose-headers') ?? '', /retry-after/, 'browsers may read it');
  const [row] = await trackedCalls([id]);
  assertEquals([row.status, row.user_id], [429, user.id], 'the refusal is tracked too');

  // Another user has a minute of their own; health and the service role are never limited.
  assertEquals((await other.call('admin-alerts')).status, 403);
  const health = await user.call('health');
  assertEquals(health.status, 200);
  assertEquals(health.headers.get('x-ratelimit-limit'), null);
  const service = await callFunction(stack.serviceKey, 'admin-alerts');
  assertEquals(service.status, 401, 'the service role is no admin user, but it is not limited');
  assertEquals(service.headers.get('x-ratelimit-limit'), null);
  assertEquals((await user.call('workspaces')).status, 429, 'the limit holds across functions');
});

async function limitedStatuses(token: string, flags: Record<string, string>): Promise<number[]> {
  return await helperResult('limited-calls.ts', [token], flags, 'the limited process ran');
}

Deno.test('MAX_API_REQUESTS_PER_MINUTE sets the limit and ENABLE_RATE_LIMITING=false switches it off', async () => {
  const limited = await signUp('ops-rl-flag-on');
  const unlimited = await signUp('ops-rl-flag-off');
  await roomInThisMinute(10);
  assertEquals(await limitedStatuses(limited.token, { ENABLE_RATE_LIMITING: 'true', MAX_API_REQUESTS_PER_MINUTE: '1' }), [200, 429, 429]);
  assertEquals(
    await limitedStatuses(unlimited.token, { ENABLE_RATE_LIMITING: 'false', MAX_API_REQUESTS_PER_MINUTE: '1' }),
    [200, 200, 200],
  );
  const [row] = await withDb((sql) => sql`select count(*)::int as n from ops.rate_limits where user_id = ${unlimited.id}`);
  assertEquals(row.n, 0, 'switched off, nothing is even counted');
});
