// Health: database, YouTube, Gemini and RevID each with status, response time, last check and
// error; degraded (still 200) when an external service is down; external probes are cheap (no
// credential, so no quota), time-limited (2 s), shared for 30 s across instances, and stored so
// that uptime is measured; an instance answers from its last report for 5 s. (503 with the
// database down: tests/stack/health.test.ts.)
import { assertEquals, assertMatch, assertOk } from './assert.ts';
import { callFunction, withDb, type Json } from './helpers/users.ts';
import { fakeRequests, injectFault, removeFault } from './helpers/ops.ts';
import { ANSWER_CACHE_MS, healthReport } from '../../supabase/functions/health/report.ts';
import { closeDb } from '../../supabase/functions/_shared/platform/db.ts';

const PROBES = {
  youtube: '/youtube/youtube/v3/videos',
  gemini: '/gemini/v1beta/models',
  revid: '/revid/api/public/v2/status',
} as const;
type External = keyof typeof PROBES;

/**
 * Runs `fn` with pg_cron's every-minute health call paused: a call of its that claims the leases
 * just before a test's own would answer the test from the probes stored before its fault (its
 * own probe still running), and the instance would keep that answer for 5 s.
 */
async function withoutCronProbe(fn: () => Promise<void>): Promise<void> {
  await withDb((sql) => sql`update cron.job set active = false where jobname = 'ops-health-probe'`);
  try {
    await fn();
  } finally {
    await withDb((sql) => sql`update cron.job set active = true where jobname = 'ops-health-probe'`);
  }
}

/**
 * Forgets every probe lease and waits out the instance's answer cache, so the next /health
 * probes the services again.
 */
async function expireProbeLeases() {
  await withDb((sql) => sql`delete from ops.health_probe_leases`);
  await new Promise((r) => setTimeout(r, ANSWER_CACHE_MS + 100));
}

async function health(): Promise<{ status: number; body: Json }> {
  const res = await callFunction(null, 'health');
  return { status: res.status, body: res.body };
}

/** Leaves the shared cache with fresh, healthy probes for whatever runs next. */
async function reprobe() {
  await expireProbeLeases();
  const after = await health();
  assertEquals(after.body.status, 'healthy', `health recovered: ${JSON.stringify(after.body.services)}`);
}

Deno.test('health reports every service; external probes carry no credential and are shared for 30 s', () =>
  withoutCronProbe(async () => {
    await expireProbeLeases();
    const since = new Date();
    const first = await health();
    assertEquals(first.status, 200);
    assertEquals(first.body.status, 'healthy', JSON.stringify(first.body.services));
    assertMatch(first.body.version, /^\d+\.\d+\.\d+/);
    assertEquals(typeof first.body.system.memory_usage, 'number');
    assertEquals(typeof first.body.system.uptime, 'number');
    const services = { database: first.body.services.database, ...first.body.services.external_apis };
    assertEquals(Object.keys(services).sort(), ['database', 'gemini', 'revid', 'youtube']);
    for (const [name, s] of Object.entries<Json>(services)) {
      assertEquals(s.status, 'healthy', name);
      assertEquals(typeof s.response_time, 'number', name);
      assertOk(!Number.isNaN(Date.parse(s.last_checked)), `${name}.last_checked is a time`);
    }

    // The test stack points every service at its fakes (API_FAKES_ORIGIN), and health says so.
    for (const name of Object.keys(PROBES) as External[]) assertEquals(first.body.services.external_apis[name].backend, 'fake', name);
    assertEquals(first.body.services.database.backend, undefined);

    for (let i = 0; i < 3; i++) {
      const again = await health();
      for (const name of Object.keys(PROBES) as External[]) {
        assertEquals(again.body.services.external_apis[name].last_checked, services[name].last_checked, `${name} answered from the cache`);
      }
    }

    for (const [name, path] of Object.entries(PROBES)) {
      const seen = await fakeRequests(path, since);
      assertEquals(seen.length, 1, `${name} was probed once for four health calls`);
      const [probe] = seen;
      assertEquals(probe.method, 'GET');
      assertEquals('key' in probe.query, false, `${name}: no API key in the query`);
      for (const header of ['authorization', 'x-goog-api-key', 'key']) {
        assertEquals(header in probe.headers, false, `${name}: no ${header} header`);
      }
    }

    const stored = await withDb(
      (sql) => sql`
    select service, status from ops.health_probes where checked_at >= ${since} order by service`,
    );
    assertEquals(
      stored.map((r) => `${r.service}:${r.status}`),
      ['database:healthy', 'gemini:healthy', 'revid:healthy', 'youtube:healthy'],
    );
  }),
);

Deno.test('a fake answering 503 makes health degraded (still 200), is stored, and recovers', () =>
  withoutCronProbe(async () => {
    const fault = await injectFault({ match: { pathPrefix: '/gemini' }, status: 503 });
    try {
      await expireProbeLeases();
      const since = new Date();
      const res = await health();
      assertEquals(res.status, 200);
      assertEquals(res.body.status, 'degraded');
      assertEquals(res.body.services.database.status, 'healthy');
      const gemini = res.body.services.external_apis.gemini;
      assertEquals([gemini.status, gemini.error], ['unhealthy', 'HTTP 503']);
      assertEquals(res.body.services.external_apis.youtube.status, 'healthy');
      const [row] = await withDb(
        (sql) => sql`
      select status, error from ops.health_probes where service = 'gemini' and checked_at >= ${since}`,
      );
      assertEquals([row.status, row.error], ['unhealthy', 'HTTP 503']);
    } finally {
      await removeFault(fault);
    }
    await reprobe();
  }),
);

Deno.test('a service that does not answer within 2 s is unhealthy, and health still answers in time', () =>
  withoutCronProbe(async () => {
    const fault = await injectFault({ match: { pathPrefix: '/revid' }, latencyMs: 6_000 });
    try {
      await expireProbeLeases();
      const started = performance.now();
      const res = await health();
      const took = performance.now() - started;
      assertOk(took < 4_000, `health answered in ${Math.round(took)} ms`);
      assertEquals(res.body.status, 'degraded');
      const revid = res.body.services.external_apis.revid;
      assertEquals(revid.status, 'unhealthy');
      assertEquals(revid.error, 'no answer within 2000 ms');
      assertOk(revid.response_time >= 1_900 && revid.response_time < 3_000, `response_time ${revid.response_time}`);
    } finally {
      await removeFault(fault);
    }
    await reprobe();
  }),
);

Deno.test('a slow but answering service is degraded', () =>
  withoutCronProbe(async () => {
    const fault = await injectFault({ match: { pathPrefix: '/youtube/youtube/v3/videos' }, latencyMs: 1_300 });
    try {
      await expireProbeLeases();
      const res = await health();
      assertEquals(res.status, 200);
      assertEquals(res.body.status, 'degraded');
      const youtube = res.body.services.external_apis.youtube;
      assertEquals(youtube.status, 'degraded');
      assertMatch(youtube.error, /^slow: \d+ ms$/);
    } finally {
      await removeFault(fault);
    }
    await reprobe();
  }),
);

Deno.test({
  name: 'an instance answers from its last report for 5 s: no database check per call',
  async fn() {
    const first = await healthReport();
    const again = await healthReport();
    assertEquals(again.services.database.last_checked, first.services.database.last_checked, 'the database was not checked again');
    assertOk(again.timestamp >= first.timestamp, "the timestamp is the answer's own");
    await new Promise((r) => setTimeout(r, ANSWER_CACHE_MS + 100));
    const later = await healthReport();
    assertOk(later.services.database.last_checked > first.services.database.last_checked, 'checked again once the 5 s are over');
    await closeDb();
  },
});
