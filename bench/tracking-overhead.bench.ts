// What tracking + rate limiting add per request: the same function (admin-alerts, list, as an
// admin: a JWT check and one query) served by two functions servers of the running stack's code,
// one with ENABLE_ANALYTICS / ENABLE_ERROR_TRACKING / ENABLE_RATE_LIMITING on, one with them off,
// called alternately in the same run. Reports p50 and p99 of each and of the difference.
// Target: under 3 ms at p99.
//
// Needs a running stack (its env: SUPABASE_URL, keys, SUPABASE_DB_URL), e.g.
//   set -a; . .local/dev/stack.env; set +a; node --import tsx bench/tracking-overhead.bench.ts
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import postgres from 'postgres';
import { ROOT } from '../local/profile.ts';
import { DENO_ENV } from '../local/deno.ts';
import { percentile, stats, writeResult } from './lib.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2000);
const WARMUP = 200;

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this with a running stack's env (see the header of this file)`);
  return v;
}

const supabaseUrl = required('SUPABASE_URL');
const serviceKey = required('SUPABASE_SERVICE_ROLE_KEY');
const anonKey = required('SUPABASE_ANON_KEY');
const dbUrl = required('SUPABASE_DB_URL');

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

/** An edge runtime of its own (same limits as the stack's), whose functions get `flags` on top of the stack's function env. */
async function startFunctions(flags: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const envFile = resolve(mkdtempSync(resolve(tmpdir(), 'bench-tracking-')), 'functions.env');
  const stackFunctionEnv = readFileSync(required('LOCAL_FUNCTIONS_ENV_FILE'), 'utf8');
  writeFileSync(
    envFile,
    stackFunctionEnv +
      Object.entries(flags)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    { mode: 0o600 },
  );
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'local/edge-runtime/main.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...DENO_ENV, LOCAL_FUNCTIONS_PORT: String(port), LOCAL_FUNCTIONS_ENV_FILE: envFile },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/health`);
      await res.body?.cancel();
      if (res.status === 200) return { url, child };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('the functions server did not start');
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function adminToken(): Promise<{ id: string; token: string }> {
  const email = `bench-admin-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const password = `pw-${crypto.randomUUID()}`;
  const created = await fetch(`${supabaseUrl}/auth/v1/admin/users`, {
    method: 'POST',
    headers: { apikey: serviceKey, Authorization: `Bearer ${serviceKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password, email_confirm: true, app_metadata: { role: 'admin' } }),
  });
  const user = await created.json();
  if (created.status !== 200) throw new Error(`creating the bench admin failed: ${JSON.stringify(user)}`);
  const session = await fetch(`${supabaseUrl}/auth/v1/token?grant_type=password`, {
    method: 'POST',
    headers: { apikey: anonKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = await session.json();
  if (session.status !== 200) throw new Error(`bench admin sign-in failed: ${JSON.stringify(body)}`);
  return { id: user.id, token: body.access_token };
}

const admin = await adminToken();
const tag = crypto.randomUUID().slice(0, 8);
const plain = await startFunctions({ ENABLE_ANALYTICS: 'false', ENABLE_ERROR_TRACKING: 'false', ENABLE_RATE_LIMITING: 'false' });
const tracked = await startFunctions({
  ENABLE_ANALYTICS: 'true',
  ENABLE_ERROR_TRACKING: 'true',
  ENABLE_RATE_LIMITING: 'true',
  // every request is counted (the statement runs), none is refused
  MAX_API_REQUESTS_PER_MINUTE: '1000000000',
});

async function timedCall(base: string, id: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${base}/admin-alerts`, { headers: { authorization: `Bearer ${admin.token}`, 'x-request-id': id } });
  await res.arrayBuffer();
  const ms = performance.now() - t;
  if (res.status !== 200) throw new Error(`admin-alerts answered ${res.status}`);
  return ms;
}

const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
try {
  for (let i = 0; i < WARMUP; i++) {
    await timedCall(plain.url, `bench-warm-a-${tag}-${i}`);
    await timedCall(tracked.url, `bench-warm-b-${tag}-${i}`);
  }
  const without: number[] = [];
  const withTracking: number[] = [];
  const diffs: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    // Alternate which goes first, so both see the same machine noise.
    let a: number;
    let b: number;
    if (i % 2 === 0) {
      a = await timedCall(plain.url, `bench-a-${tag}-${i}`);
      b = await timedCall(tracked.url, `bench-b-${tag}-${i}`);
    } else {
      b = await timedCall(tracked.url, `bench-b-${tag}-${i}`);
      a = await timedCall(plain.url, `bench-a-${tag}-${i}`);
    }
    without.push(a);
    withTracking.push(b);
    diffs.push(b - a);
  }
  await new Promise((r) => setTimeout(r, 1_000));
  const [rows] = await sql`
    select count(*) filter (where request_id like ${`bench-b-${tag}-%`})::int as tracked,
           count(*) filter (where request_id like ${`bench-a-${tag}-%`})::int as untracked
    from ops.api_calls where request_id like ${`bench-%-${tag}-%`}`;

  const w = stats(without);
  const t = stats(withTracking);
  const sortedDiffs = [...diffs].sort((x, y) => x - y);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  writeResult('tracking-overhead', {
    function: 'admin-alerts (GET /, admin JWT, one query)',
    rounds: ROUNDS,
    without_tracking_ms: w,
    with_tracking_and_rate_limit_ms: t,
    overhead_ms: { p50: round(t.p50 - w.p50), p99: round(t.p99 - w.p99) },
    paired_difference_ms: { p50: round(percentile(sortedDiffs, 0.5)), p99: round(percentile(sortedDiffs, 0.99)) },
    ratio_p50: round(t.p50 / w.p50),
    ratio_p99: round(t.p99 / w.p99),
    rows_recorded: { tracked_server: rows.tracked, untracked_server: rows.untracked, expected_tracked: ROUNDS },
    target: 'overhead p99 < 3 ms',
    pass: t.p99 - w.p99 < 3,
  });
} finally {
  await sql`delete from ops.api_calls where request_id like ${`bench-%-${tag}-%`}`;
  await sql`delete from ops.rate_limits where user_id = ${admin.id}`;
  await sql`delete from auth.users where id = ${admin.id}`;
  await sql.end();
  plain.child.kill('SIGTERM');
  tracked.child.kill('SIGTERM');
}
