// Alert delivery end to end through the stack's pg_net worker and the fakes' HTTPS echo sink: a
// webhook that answers 500 twice is retried (the answers read from net._http_response) and the
// alert ends delivered on the third attempt; one that keeps failing ends failed, and admins see
// both in admin-alerts/deliveries. "Time passes" by moving a retry's next_attempt_at to now: the
// backoff itself (1, 2, 4 … minutes) is covered by tests/db/31-alert-delivery.test.sql.
import postgres from 'postgres';
import { assertEquals, assertOk } from './assert.ts';
import { signUp, stack, type Json } from './helpers/users.ts';
import { createAdmin, eventually, fakeRequests, injectFault, removeFault } from './helpers/ops.ts';

type Sql = postgres.Sql;

/** Waits until pg_net has recorded the answer to the delivery's attempt in flight, then collects it. */
async function collectAnswer(sql: Sql, deliveryId: string) {
  await eventually(
    async () => {
      const [row] = await sql`
      select 1 from ops.alert_deliveries d join net._http_response h on h.id = d.request_id
      where d.id = ${deliveryId} and d.status = 'sending'`;
      return row ? true : undefined;
    },
    `pg_net's answer to delivery ${deliveryId}`,
    15_000,
  );
  await sql`select ops.deliver_alerts()`;
  const [d] = await sql`select status, attempts, last_status_code, last_error from ops.alert_deliveries where id = ${deliveryId}`;
  return d;
}

async function retryNow(sql: Sql, deliveryId: string) {
  await sql`update ops.alert_deliveries set next_attempt_at = now() where id = ${deliveryId} and status = 'pending'`;
  const [r] = await sql`select ops.deliver_alerts() as r`;
  assertEquals(r.r.sent, 1, 'the due retry is sent');
}

async function setWebhook(sql: Sql, url: string) {
  const [secret] = await sql`select id from vault.secrets where name = 'alert_webhook_url'`;
  if (secret) await sql`select vault.update_secret(${secret.id}::uuid, ${url})`;
  else await sql`select vault.create_secret(${url}, 'alert_webhook_url')`;
}

async function openAlert(sql: Sql, rule: string): Promise<string> {
  const [a] = await sql`insert into ops.alerts (rule_key, details) values (${rule}, '{"calls": 30}') returning id::text`;
  await sql`select ops.notify_alert(${a.id}, 'opened')`;
  const [d] = await sql`select id::text from ops.alert_deliveries where alert_id = ${a.id} and event = 'opened'`;
  return d.id;
}

Deno.test('an alert whose webhook answers 500 is retried and ends delivered; one that keeps failing ends failed', async () => {
  const admin = await createAdmin('ops-delivery');
  const tag = crypto.randomUUID().slice(0, 8);
  const rule = `ops_test_delivery_${tag}`;
  const hookPath = `/echo/ops-delivery-${tag}`;
  const hook = `${Deno.env.get('LOCAL_FAKES_URL')!.replace(/\/+$/, '')}${hookPath}`;
  // Session locks: pg_cron's runs of the delivery and the evaluation wait until the test is done,
  // so every attempt below is the test's own; the functions' own transaction locks are reentrant.
  const sql = postgres(stack.dbUrl, { max: 1, prepare: false, onnotice: () => {} });
  const since = new Date();
  const faults: string[] = [];
  try {
    await sql`select pg_advisory_lock(hashtext('ops.deliver_alerts')), pg_advisory_lock(hashtext('ops.evaluate_alerts'))`;
    await sql`
      insert into ops.alert_rules (key, kind, description, threshold, window_size, min_samples, severity, function_name)
      values (${rule}, 'error_rate', 'Test rule: delivery', 5, '5 minutes', 20, 'critical', ${`ops-delivery-${tag}`})`;
    await setWebhook(sql, `${hook}/flaky`);

    faults.push(
      await injectFault({ match: { method: 'POST', pathPrefix: `${hookPath}/flaky` }, status: 500, body: { error: 'down' }, times: 2 }),
    );
    const flaky = await openAlert(sql, rule);

    const first = await collectAnswer(sql, flaky);
    assertEquals([first.status, first.attempts, first.last_status_code], ['pending', 1, 500], 'the first 500 is read and retried');
    assertOk(String(first.last_error).startsWith('HTTP 500'), `the answer is kept: ${first.last_error}`);
    await retryNow(sql, flaky);
    const second = await collectAnswer(sql, flaky);
    assertEquals([second.status, second.attempts, second.last_status_code], ['pending', 2, 500], 'the second 500 too');
    await retryNow(sql, flaky);
    const third = await collectAnswer(sql, flaky);
    assertEquals([third.status, third.attempts, third.last_status_code], ['delivered', 3, 200], 'the third attempt is delivered');

    const posts = (await fakeRequests(`${hookPath}/flaky`, since)).filter((r) => r.method === 'POST');
    assertEquals(
      posts.map((p) => p.status),
      [500, 500, 200],
      'the webhook saw three posts',
    );
    assertEquals(new Set(posts.map((p) => p.body)).size, 1, 'of the same message');
    assertOk(JSON.parse(posts[2].body!).text.startsWith('[CRITICAL] Test rule: delivery'));

    // A webhook that never takes it: attempts spent → failed, and visible to admins.
    faults.push(await injectFault({ match: { method: 'POST', pathPrefix: `${hookPath}/down` }, status: 503 }));
    await setWebhook(sql, `${hook}/down`);
    await sql`update ops.alerts set resolved_at = now(), resolution = 'test' where rule_key = ${rule} and resolved_at is null`;
    const down = await openAlert(sql, rule);
    await sql`update ops.alert_deliveries set max_attempts = 2 where id = ${down}`;
    assertEquals((await collectAnswer(sql, down)).status, 'pending');
    await retryNow(sql, down);
    const lost = await collectAnswer(sql, down);
    assertEquals([lost.status, lost.attempts, lost.last_status_code], ['failed', 2, 503], 'two 503s with two attempts allowed: failed');

    const failedList = await admin.call('admin-alerts/deliveries?status=failed&limit=200');
    assertEquals(failedList.status, 200);
    const shown = failedList.body.deliveries.find((d: Json) => d.id === down);
    assertOk(shown, 'the failed delivery is listed for admins');
    assertEquals([shown.status, shown.last_status_code, shown.subject, shown.rule_key], ['failed', 503, 'Test rule: delivery', rule]);
    assertOk(failedList.body.counts.failed >= 1, 'and counted');
    assertOk(!failedList.body.deliveries.some((d: Json) => d.id === flaky), 'a delivered one is not among the failed');
    const delivered = await admin.call('admin-alerts/deliveries?status=delivered&limit=200');
    assertEquals(delivered.body.deliveries.find((d: Json) => d.id === flaky)?.attempts, 3);
    const bad = await admin.call('admin-alerts/deliveries?status=lost');
    assertEquals([bad.status, bad.body.error.details[0].path], [400, 'status']);
    const user = await signUp('ops-delivery-not-admin');
    assertEquals((await user.call('admin-alerts/deliveries')).status, 403, 'only admins see them');
  } finally {
    for (const id of faults) await removeFault(id);
    await sql`delete from ops.alert_rules where key = ${rule}`;
    await sql`delete from vault.secrets where name = 'alert_webhook_url'`;
    await sql`select pg_advisory_unlock(hashtext('ops.deliver_alerts')), pg_advisory_unlock(hashtext('ops.evaluate_alerts'))`;
    await sql.end({ timeout: 5 });
  }
});

Deno.test(
  'a new kind of unhandled error is notified once through pg_net; more of the same kind are only counted, and admins see the kinds',
  async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const hookPath = `/echo/ops-new-error-${tag}`;
    const hook = `${Deno.env.get('LOCAL_FAKES_URL')!.replace(/\/+$/, '')}${hookPath}`;
    const sql = postgres(stack.dbUrl, { max: 1, prepare: false, onnotice: () => {} });
    const since = new Date();
    const name = `DeliveryTestError${tag.replace(/[0-9]/g, 'x')}`;
    try {
      await sql`select pg_advisory_lock(hashtext('ops.deliver_alerts'))`;
      await setWebhook(sql, hook);
      for (let i = 1; i <= 3; i++) {
        await sql`insert into ops.errors (name, message, operation, request_id)
        values (${name}, ${`schedule ${crypto.randomUUID()} failed after ${i} tries`}, 'POST schedules/worker', ${`${tag}-${i}`})`;
      }
      const [fp] = await sql`select fingerprint, occurrences::int from ops.error_fingerprints where name = ${name}`;
      assertEquals(fp.occurrences, 3, 'three errors of one kind, counted together');
      const [d] = await sql`select id::text from ops.alert_deliveries where error_fingerprint = ${fp.fingerprint}`;
      const answered = await collectAnswer(sql, d.id);
      assertEquals(answered.status, 'delivered');
      const posts = (await fakeRequests(hookPath, since)).filter((r) => r.method === 'POST');
      assertEquals(posts.length, 1, 'one notification for the kind');
      assertEquals(JSON.parse(posts[0].body!).text, `[NEW ERROR] ${name} in POST schedules/worker`);

      const admin = await createAdmin('ops-error-kinds');
      const listed = await admin.call('admin-metrics/error-kinds?limit=200');
      assertEquals(listed.status, 200);
      const kind = listed.body.kinds.find((k: Json) => k.fingerprint === fp.fingerprint);
      assertOk(kind, 'admins see the kind');
      assertEquals(
        [kind.name, kind.operation, kind.message, kind.occurrences, kind.notification_status],
        [name, 'POST schedules/worker', 'schedule <uuid> failed after <n> tries', 3, 'delivered'],
      );
      assertEquals((await (await signUp('ops-kinds-not-admin')).call('admin-metrics/error-kinds')).status, 403);
    } finally {
      await sql`delete from ops.error_fingerprints where name = ${name}`;
      await sql`delete from ops.errors where name = ${name}`;
      await sql`delete from vault.secrets where name = 'alert_webhook_url'`;
      await sql`select pg_advisory_unlock(hashtext('ops.deliver_alerts'))`;
      await sql.end({ timeout: 5 });
    }
  },
);
