// The scaling benchmark family (bench/scaling.bench.ts) at tiny sizes against the test stack's
// database, so its code cannot rot between the runs that take hours: every path but the YouTube
// sync (which has its own benchmark and tests; the dispatcher too when other schedules are due)
// must finish and write a point per size, and its fixtures must be gone afterwards. No timing is
// asserted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import postgres from 'postgres';
import { ROOT } from '../../local/profile.ts';

const dbUrl = process.env.SUPABASE_DB_URL;
if (!dbUrl) throw new Error('SUPABASE_DB_URL must point at the test stack database');
const OUT = `scaling-smoke-${process.pid}`;

/**
 * The dispatcher path claims any due schedule, so it refuses a database where other schedules are
 * due (earlier suites may leave some behind, and the stack's own worker is then busy with them).
 */
async function pathsToRun(): Promise<string[]> {
  const sql = postgres(dbUrl!, { max: 1, onnotice: () => {} });
  try {
    const [{ due }] = await sql`
      select count(*)::int as due from public.upload_schedules
      where status in ('scheduled', 'uploading', 'processing') and next_attempt_at <= now() + interval '10 minutes'`;
    return due === 0 ? ['insights', 'rls', 'dispatch', 'admin', 'backup'] : ['insights', 'rls', 'admin', 'backup'];
  } finally {
    await sql.end();
  }
}

test('the scaling family runs every database path at two tiny sizes and leaves nothing behind', async (t) => {
  const PATHS = await pathsToRun();
  if (!PATHS.includes('dispatch')) t.diagnostic('dispatch left out: other schedules are due in this database');
  const r = spawnSync(process.execPath, ['--import', 'tsx', resolve(ROOT, 'bench', 'scaling.bench.ts')], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 600_000,
    env: {
      ...process.env,
      SCALING_PATHS: PATHS.join(','),
      SCALING_OUT: OUT,
      SCALING_ROUNDS: '2',
      SCALING_INSIGHTS_SIZES: '3,6',
      SCALING_INSIGHTS_DAYS: '30',
      SCALING_RLS_SIZES: '1,3',
      SCALING_DISPATCH_SIZES: '5,10',
      SCALING_DISPATCH_HOP_MS: '0',
      SCALING_ADMIN_SIZES: '200,400',
      SCALING_BACKUP_SIZES: '1000,2000',
    },
  });
  const files = ['json', 'svg'].map((ext) => resolve(ROOT, 'bench', 'results', `${OUT}.${ext}`));
  try {
    assert.equal(r.status, 0, `the family failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
    const out = JSON.parse(readFileSync(files[0], 'utf8'));
    assert.deepEqual(Object.keys(out.paths), PATHS);
    for (const name of PATHS) {
      const points = out.paths[name].points;
      assert.equal(points.length, 2, `${name}: a point per size`);
      assert.ok(
        points.every((p: { value: number }) => Number.isFinite(p.value) && p.value >= 0),
        `${name}: measured figures`,
      );
    }
    if (PATHS.includes('dispatch')) {
      assert.equal(out.paths.dispatch.points[1].details.exactly_once, true, 'every due schedule was claimed and published once');
    }
    assert.equal(out.paths.backup.points[1].details.rows_restored, 2000, 'the restore brought the workspace back whole');
    assert.match(readFileSync(files[1], 'utf8'), /^<svg [^>]*>[\s\S]*<polyline [\s\S]*<\/svg>\n$/);

    const sql = postgres(dbUrl!, { max: 1, onnotice: () => {} });
    try {
      const [left] = await sql`
        select (select count(*)::int from auth.users where email like 'scaling-%') as users,
          (select count(*)::int from ops.api_calls where request_id like 'scaling-%') as calls,
          (select count(*)::int from cron.job where (jobname like 'ops-%' or jobname = 'upload-dispatch') and not active) as paused_jobs`;
      assert.deepEqual(left, { users: 0, calls: 0, paused_jobs: 0 });
    } finally {
      await sql.end();
    }
  } finally {
    for (const f of files) rmSync(f, { force: true });
  }
});
