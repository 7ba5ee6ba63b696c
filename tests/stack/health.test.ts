// The health function answers 200 with the database up and 503 when it is down, and recovers;
// the outage is stored as probes once the database is back, so measured uptime includes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { profile } from '../../local/profile.ts';
import { isRunning, startCluster, stopCluster } from '../../local/stack/cluster.ts';

const health = `${process.env.SUPABASE_URL}/functions/v1/health`;

async function get() {
  const res = await fetch(health, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

test('health is 200 and healthy while the database answers', async () => {
  const r = await get();
  assert.equal(r.status, 200);
  assert.equal(r.body.status, 'healthy');
  assert.equal(r.body.services.database.status, 'healthy');
  assert.equal(typeof r.body.services.database.response_time, 'number');
  for (const name of ['youtube', 'gemini', 'revid']) {
    assert.equal(r.body.services.external_apis[name].status, 'healthy', name);
  }
  assert.match(r.body.version, /^\d+\.\d+\.\d+/);
  assert.equal(typeof r.body.system.uptime, 'number');
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
});

test('health is 503 and unhealthy with the database stopped, then recovers', async () => {
  const p = profile(process.env.CCE_PROFILE ?? 'test');
  const stoppedAt = new Date();
  stopCluster(p);
  assert.equal(isRunning(p), false);
  try {
    // An instance answers from its last report for up to 5 s (health/report.ts ANSWER_CACHE_MS).
    let down = await get();
    for (let i = 0; i < 30 && down.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 250));
      down = await get();
    }
    assert.equal(down.status, 503);
    assert.equal(down.body.status, 'unhealthy');
    assert.equal(down.body.services.database.status, 'unhealthy');
    assert.match(down.body.services.database.error, /database unreachable/);
    assert.equal(JSON.stringify(down.body).includes('postgres:postgres'), false, 'no connection string leaks');
    assert.deepEqual(
      Object.keys(down.body.services.external_apis).sort(),
      ['gemini', 'revid', 'youtube'],
      'the external services are still reported',
    );
  } finally {
    startCluster(p);
  }
  let up = await get();
  for (let i = 0; i < 20 && up.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 250));
    up = await get();
  }
  assert.equal(up.status, 200);

  const sql = postgres(p.dbUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`
      select status, error from ops.health_probes
      where service = 'database' and status = 'unhealthy' and checked_at >= ${stoppedAt}`;
    assert.ok(rows.length >= 1, 'the failed check was stored once the database answered again');
    assert.match(rows[0].error, /database unreachable/);
  } finally {
    await sql.end();
  }
});
