// The health function answers 200 with the database up and 503 when it is down, and recovers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
  assert.match(r.body.version, /^\d+\.\d+\.\d+/);
  assert.equal(typeof r.body.system.uptime, 'number');
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
});

test('health is 503 and unhealthy with the database stopped, then recovers', async () => {
  const p = profile('test');
  stopCluster(p);
  assert.equal(isRunning(p), false);
  try {
    const down = await get();
    assert.equal(down.status, 503);
    assert.equal(down.body.status, 'unhealthy');
    assert.equal(down.body.services.database.status, 'unhealthy');
    assert.match(down.body.services.database.error, /database unreachable/);
    assert.equal(JSON.stringify(down.body).includes('postgres:postgres'), false, 'no connection string leaks');
  } finally {
    startCluster(p);
  }
  let up = await get();
  for (let i = 0; i < 20 && up.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 250));
    up = await get();
  }
  assert.equal(up.status, 200);
});
