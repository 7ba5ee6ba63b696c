// admin-metrics and admin-alerts: platform admins only (403 for anyone else, 405 for other
// methods), correct figures for a known set of calls, and alerts that open once, notify the
// webhook once (Slack JSON delivered through pg_net), can be acknowledged and resolve.
import postgres from 'postgres';
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import { callFunction, signUp, stack, withDb, type Json } from './helpers/users.ts';
import { createAdmin, eventually, fakeRequests, requestId, trackedCalls } from './helpers/ops.ts';

const fresh = { 'Cache-Control': 'no-cache' };

Deno.test('admin-metrics and admin-alerts are for platform admins only', async () => {
  const user = await signUp('ops-not-admin');
  const admin = await createAdmin('ops-admin-guard');
  for (const path of ['admin-metrics', 'admin-metrics/errors', 'admin-alerts', 'admin-alerts/rules']) {
    const denied = await user.call(path);
    assertEquals(denied.status, 403, `${path} refuses a normal user`);
    assertEquals(denied.body.error.code, 'forbidden');
    assertEquals((await callFunction(null, path)).status, 401, `${path} refuses a caller without a token`);
  }
  const post = await admin.call('admin-metrics', { method: 'POST', body: {} });
  assertEquals(post.status, 405);
  assertEquals(post.headers.get('allow'), 'GET, OPTIONS');
  const badWindow = await admin.call('admin-metrics?window=2h');
  assertEquals(badWindow.status, 400);
  assertEquals(badWindow.body.error.details[0].path, 'window');
  const rules = await admin.call('admin-alerts/rules');
  assertEquals(rules.status, 200);
  assertEquals(
    rules.body.rules
      .map((r: Json) => r.key)
      .filter((k: string) => !k.startsWith('ops_test_'))
      .sort(),
    ['backup_missing', 'channels_reauth', 'error_rate', 'failed_jobs', 'p95_latency', 'unhealthy_service', 'youtube_quota'],
  );
});

Deno.test('admin-metrics gives the exact figures of a known set of calls, from roll-ups and raw rows', async () => {
  const admin = await createAdmin('ops-admin-figures');
  const fn = `ops-fig-${crypto.randomUUID().slice(0, 8)}`;
  // 20 calls three minutes ago (19 of 10 ms, one 500 of 900 ms), 5 of 20 ms now (one of them 429).
  await withDb(async (sql) => {
    await sql`
      insert into ops.api_calls (at, function_name, endpoint, method, status, duration_ms, request_id)
      select date_trunc('minute', now()) - interval '3 minutes' + i * interval '1 second', ${fn}, '/items/:id', 'GET',
        case when i = 20 then 500 else 200 end, case when i = 20 then 900 else 10 end, ${fn} || '-' || i
      from generate_series(1, 20) i`;
    await sql`
      insert into ops.api_calls (function_name, endpoint, method, status, duration_ms, request_id)
      select ${fn}, '/', 'POST', case when i = 1 then 429 else 201 end, 20, ${fn} || '-tail-' || i
      from generate_series(1, 5) i`;
    await sql`select ops.rollup_api_calls()`;
  });
  for (const window of ['1h', '24h', '7d', '30d']) {
    const res = await admin.call(`admin-metrics?window=${window}&function=${fn}`, { headers: fresh });
    assertEquals(res.status, 200, window);
    const m = res.body;
    assertEquals(m.window.name, window);
    assertEquals(m.window.bucket, window === '1h' ? 'minute' : 'hour');
    assertEquals(m.window.function, fn);
    const app = m.application;
    assertEquals(
      [app.total_requests, app.error_rate, app.avg_response_time, app.p95_response_time, app.max_response_time],
      [25, 4, 47.6, 20, 900],
      `${window}: 25 calls, 4 % errors, avg 47.6 ms, p95 20 ms, max 900 ms`,
    );
    assertEquals([m.errors.server_errors, m.errors.client_errors, m.errors.rate_limited], [1, 0, 1]);
    assertEquals(
      app.slowest_endpoints.map((e: Json) => [e.method, e.endpoint, e.calls, e.p95_response_time, e.max_response_time]),
      [
        ['POST', '/', 5, 20, 20],
        ['GET', '/items/:id', 20, 10, 900],
      ],
    );
    assertEquals(
      m.series.reduce((n: number, p: Json) => n + p.requests, 0),
      25,
      `${window}: the series adds up`,
    );
  }
  const all = (await admin.call('admin-metrics', { headers: fresh })).body;
  assertEquals(all.window.name, '24h', 'the default window is 24 h');
  assertOk(all.application.total_requests >= 25);
  assertOk(all.user_activity.active_users >= 1, 'active users are counted');
  assertOk(all.database.active_connections >= 1 && all.database.database_size_mb > 0, JSON.stringify(all.database));
  assertOk(Array.isArray(all.database.slow_statements), 'slow statements come from pg_stat_statements');
  assertEquals(typeof all.application.uptime_percentage, 'number', 'uptime is measured from stored probes');
  assertEquals(all.api_usage.youtube_quota.available, true);
  assertOk('generations' in all.api_usage && 'renders' in all.api_usage && 'uploads' in all.api_usage);
});

Deno.test('admin-metrics counts real calls as they are tracked', async () => {
  const admin = await createAdmin('ops-admin-live');
  const count = async () =>
    (await admin.call('admin-metrics?window=1h&function=admin-alerts', { headers: fresh })).body.application.total_requests as number;
  // Other suites call admin-alerts at the same time and those calls count too. An attempt that
  // does not add exactly 3 is only excused (and tried again) when another caller's admin-alerts
  // call was tracked while it ran; otherwise the count is wrong and the test fails.
  const othersSince = async (since: Date) =>
    (
      await withDb(
        (sql) => sql`
    select count(*)::int as n from ops.api_calls
    where function_name = 'admin-alerts' and user_id is distinct from ${admin.id} and at >= ${since}`,
      )
    )[0].n as number;
  for (let attempt = 1; ; attempt++) {
    const started = (await withDb((sql) => sql`select now() - interval '2 seconds' as t`))[0].t as Date;
    const before = await count();
    const ids = [requestId(`live-${attempt}-1`), requestId(`live-${attempt}-2`), requestId(`live-${attempt}-3`)];
    for (const id of ids) assertEquals((await admin.call('admin-alerts', { headers: { 'x-request-id': id } })).status, 200);
    const rows = await trackedCalls(ids);
    assertEquals(
      rows.map((r) => [r.function_name, r.endpoint, r.status, r.user_id]),
      ids.map(() => ['admin-alerts', '/', 200, admin.id]),
    );
    const after = await count();
    if (after === before + 3) return;
    if (attempt === 3 || (await othersSince(started)) === 0) assertEquals(after, before + 3);
  }
});

Deno.test('the response cache never serves one admin what another got, and a roll-up invalidates it', async () => {
  const a = await createAdmin('ops-cache-a');
  const b = await createAdmin('ops-cache-b');
  const url = `admin-metrics?window=7d&function=cache-${crypto.randomUUID().slice(0, 8)}`;
  // The answer is stored after the response has gone; wait for it before asking again.
  const entries = async (who: typeof a) =>
    (await withDb((sql) => sql`select count(*)::int as n from ops.response_cache where user_id = ${who.id} and expires_at > now()`))[0]
      .n as number;
  const storedFor = (who: typeof a, before: number) =>
    eventually(async () => ((await entries(who)) > before ? true : undefined), 'the cached answer', 5_000);

  // pg_cron's roll-up (every minute) bumps ops:metrics and so may end an entry between storing and
  // asking again: then the MISS is right, and the pair is asked again.
  const metricsVersion = async () =>
    (
      await withDb(
        (sql) => sql`
    select coalesce((select version from ops.cache_versions where scope = 'ops:metrics'), 0) as v`,
      )
    )[0].v;
  const missThenHit = async (who: typeof a) => {
    for (let attempt = 1; ; attempt++) {
      const version = await metricsVersion();
      const stored = await entries(who);
      const first = await who.call(url);
      await storedFor(who, stored);
      const second = await who.call(url);
      if (second.headers.get('x-cache') !== 'HIT' && attempt < 3 && (await metricsVersion()) !== version) continue;
      return [first, second];
    }
  };

  const [a1, a2] = await missThenHit(a);
  assertEquals([a1.status, a1.headers.get('x-cache')], [200, 'MISS']);
  assertEquals(a2.headers.get('x-cache'), 'HIT');
  assertEquals(a2.body, a1.body, 'A gets its own answer back');

  const [b1, b2] = await missThenHit(b);
  assertEquals(b1.headers.get('x-cache'), 'MISS', "B does not get A's entry");
  assertOk(b1.body.timestamp !== a1.body.timestamp, "B's answer was computed for B");
  assertEquals(b2.headers.get('x-cache'), 'HIT');
  assertEquals(b2.body, b1.body);

  const rows = await withDb(
    (sql) => sql`
    select user_id from ops.response_cache where user_id = any (${[a.id, b.id]}) and expires_at > now()`,
  );
  // Per admin (an entry of a version a roll-up ended may still be there, unreachable).
  assertEquals([...new Set(rows.map((r) => r.user_id))].sort(), [a.id, b.id].sort(), 'entries per admin');

  const bypass = await a.call(url, { headers: fresh });
  assertEquals(bypass.headers.get('x-cache'), 'MISS', 'Cache-Control: no-cache skips the lookup');
  assertOk(bypass.body.timestamp !== a1.body.timestamp);

  await withDb((sql) => sql`select ops.rollup_api_calls()`);
  const after = await a.call(url);
  assertEquals(after.headers.get('x-cache'), 'MISS', 'a roll-up bumps ops:metrics and invalidates the answers');
  assertMatch(after.headers.get('cache-control') ?? '', /no-store/, 'intermediaries still never cache it');
});

Deno.test('an alert opens once, notifies the webhook once, is acknowledged, resolves and notifies once', async () => {
  const admin = await createAdmin('ops-alerts');
  const tag = crypto.randomUUID().slice(0, 8);
  const rule = `ops_test_${tag}`;
  const fn = `ops-alert-${tag}`;
  const hookPath = `/echo/ops-alerts-${tag}`;
  const hook = `${Deno.env.get('LOCAL_FAKES_URL')!.replace(/\/+$/, '')}${hookPath}`;
  // One connection that holds the evaluation lock: pg_cron's own run of ops.evaluate_alerts waits
  // until the test is done, so every step below is the test's alone.
  const sql = postgres(stack.dbUrl, { max: 1, prepare: false, onnotice: () => {} });
  const since = new Date();
  const notifications = async () =>
    (await fakeRequests(hookPath, since)).filter((r) => r.method === 'POST' && (r.body ?? '').includes(`rule \`${rule}\``));
  try {
    await sql`select pg_advisory_lock(hashtext('ops.evaluate_alerts'))`;
    await sql`
      insert into ops.alert_rules (key, kind, description, threshold, window_size, min_samples, severity, function_name)
      values (${rule}, 'error_rate', 'Test rule: errors of one function', 5, '5 minutes', 20, 'critical', ${fn})`;
    const [secret] = await sql`select id from vault.secrets where name = 'alert_webhook_url'`;
    if (secret) await sql`select vault.update_secret(${secret.id}::uuid, ${hook})`;
    else await sql`select vault.create_secret(${hook}, 'alert_webhook_url')`;

    const insertCalls = () => sql`
      insert into ops.api_calls (function_name, endpoint, method, status, duration_ms, request_id)
      select ${fn}, '/', 'GET', case when i <= 12 then 500 else 200 end, 5, ${fn} || '-' || i
      from generate_series(1, 30) i`;
    await insertCalls();
    const [first] = await sql`select ops.evaluate_alerts() as r`;
    assertOk(first.r.opened.includes(rule), 'the alert opens');
    const [second] = await sql`select ops.evaluate_alerts() as r`;
    assertEquals(second.r.opened.includes(rule), false, 'and does not open again');

    const listed = await admin.call('admin-alerts');
    const alert = listed.body.alerts.find((x: Json) => x.rule_key === rule);
    assertOk(alert, 'admins see the open alert');
    assertEquals([alert.severity, alert.details.error_rate, alert.resolved_at], ['critical', 40, null]);

    const ack = await admin.call(`admin-alerts/${alert.id}/acknowledge`, { method: 'POST' });
    assertEquals(ack.status, 200);
    assertEquals(ack.body.alert.acknowledged_by, admin.id);
    const acknowledged = await admin.call('admin-alerts?status=acknowledged');
    assertOk(
      acknowledged.body.alerts.some((x: Json) => x.id === alert.id),
      'it is listed as acknowledged',
    );

    await sql`delete from ops.api_calls where function_name = ${fn}`;
    const [third] = await sql`select ops.evaluate_alerts() as r`;
    assertOk(third.r.resolved.includes(rule), 'the alert resolves when the condition clears');
    await sql`select ops.evaluate_alerts()`;

    const delivered = await eventually(async () => {
      const n = await notifications();
      return n.length >= 2 ? n : undefined;
    }, 'two webhook deliveries');
    await new Promise((r) => setTimeout(r, 1_500));
    const all = await notifications();
    assertEquals(all.length, 2, 'one notification when it opened, one when it resolved');
    const [opened, resolved] = delivered.map((d) => JSON.parse(d.body!));
    assertMatch(opened.text, /^\[CRITICAL\] Test rule/);
    assertMatch(resolved.text, /^\[RESOLVED\] Test rule/);
    assertEquals(Array.isArray(opened.blocks) && opened.blocks[0].type, 'section', 'Slack blocks');
    assertMatch(delivered[0].headers['content-type'] ?? '', /application\/json/);

    const again = await admin.call(`admin-alerts/${alert.id}/resolve`, { method: 'POST', body: {} });
    assertEquals([again.status, again.body.error.code], [409, 'already_resolved']);
    assertEquals((await admin.call('admin-alerts/999999999999/acknowledge', { method: 'POST' })).status, 404);

    // By hand: an admin resolves an open alert; it is notified, and nothing reopens once it is clear.
    await insertCalls();
    await sql`select ops.evaluate_alerts()`;
    const [reopened] = await sql`select id from ops.alerts where rule_key = ${rule} and resolved_at is null`;
    await sql`delete from ops.api_calls where function_name = ${fn}`;
    const byHand = await admin.call(`admin-alerts/${reopened.id}/resolve`, { method: 'POST', body: { note: 'fixed the deploy' } });
    assertEquals(byHand.status, 200);
    assertEquals([byHand.body.alert.resolved_by, byHand.body.alert.resolution], [admin.id, 'fixed the deploy']);
    const [fourth] = await sql`select ops.evaluate_alerts() as r`;
    assertEquals([fourth.r.opened.includes(rule), fourth.r.resolved.includes(rule)], [false, false]);
    await eventually(async () => ((await notifications()).length >= 4 ? true : undefined), 'four webhook deliveries');
  } finally {
    await sql`delete from ops.api_calls where function_name = ${fn}`;
    await sql`delete from ops.alert_rules where key = ${rule}`;
    await sql`delete from vault.secrets where name = 'alert_webhook_url'`;
    await sql`select pg_advisory_unlock(hashtext('ops.evaluate_alerts'))`;
    await sql.end({ timeout: 5 });
  }
});

Deno.test('admin-metrics/errors lists the latest unhandled errors with the request id to quote', async () => {
  const admin = await createAdmin('ops-admin-errors');
  const marker = `ops-admin-errors-${crypto.randomUUID()}`;
  await withDb(async (db) => {
    await db`insert into ops.errors (name, message, operation, request_id) values ('TypeError', ${marker}, 'GET demo', ${marker})`;
  });
  const res = await admin.call('admin-metrics/errors?limit=200');
  assertEquals(res.status, 200);
  const mine = res.body.errors.find((e: Json) => e.request_id === marker);
  assertOk(mine, 'the recorded error is listed');
  assertEquals(mine.name, 'TypeError');
  assertEquals(mine.operation, 'GET demo');
  const ids = res.body.errors.map((e: Json) => Number(e.id));
  assertEquals(
    ids,
    [...ids].sort((a, b) => b - a),
    'newest first',
  );
  const page = await admin.call(`admin-metrics/errors?limit=1&before=${mine.id}`);
  assertEquals(page.status, 200);
  assertOk(page.body.errors.every((e: Json) => Number(e.id) < Number(mine.id)));
  assertEquals((await admin.call('admin-metrics/errors?limit=0')).status, 400);
});
