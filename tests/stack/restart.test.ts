// `npm start` as a user runs it, in its own profile: start on an empty data dir, a child that
// dies is reported and restarted, SIGTERM stops everything including the cluster, and a second
// start keeps the data. Prints the time from start to healthy for both starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import postgres from 'postgres';
import { profile, ROOT } from '../../local/profile.ts';
import { isRunning } from '../../local/stack/cluster.ts';
import { readState } from '../../local/stack/lifecycle.ts';
import { probeStatus } from '../../local/stack/probe.ts';
import { createConfirmedUser } from '../unit/helpers/auth-users.ts';

process.env.CCE_PORT_BASE ??= '56321';
const p = profile('restart');
const readyFile = resolve(p.dataRoot, '..', 'restart-ready.json');

interface Started {
  child: ChildProcess;
  env: Record<string, string>;
  seconds: number;
  output: () => string;
}

async function start(): Promise<Started> {
  rmSync(readyFile, { force: true });
  const t0 = performance.now();
  const child = spawn(process.execPath, ['local/bootstrap.mjs', 'start'], {
    cwd: ROOT,
    env: { ...process.env, CCE_PROFILE: 'restart', CCE_READY_FILE: readyFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const deadline = Date.now() + 120_000;
  while (!existsSync(readyFile)) {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`npm start not ready in 120 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const { env } = JSON.parse(readFileSync(readyFile, 'utf8'));
  const health = await fetch(`${env.SUPABASE_URL}/functions/v1/health`);
  assert.equal(health.status, 200);
  await health.body?.cancel();
  return { child, env, seconds: (performance.now() - t0) / 1000, output: () => out };
}

async function stop(s: Started) {
  const exited = new Promise<number | null>((r) => s.child.once('exit', (code) => r(code)));
  s.child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 45_000))]);
  assert.equal(code, 0, `npm start should exit 0 on SIGTERM:\n${s.output().slice(-2000)}`);
}

async function auth(env: Record<string, string>, path: string, body: unknown) {
  const res = await fetch(`${env.SUPABASE_URL}/auth/v1${path}`, {
    method: 'POST',
    headers: { apikey: env.SUPABASE_ANON_KEY, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

test('npm start: fresh start, child restart, clean stop, second start keeps the data', { timeout: 360_000 }, async () => {
  rmSync(p.dataRoot, { recursive: true, force: true });
  const first = await start();
  const email = `restart-${Date.now()}@example.com`;
  try {
    // Sign-up needs email confirmation: the user is created confirmed, as an admin would.
    await createConfirmedUser(
      { url: first.env.SUPABASE_URL, anonKey: first.env.SUPABASE_ANON_KEY, serviceRoleKey: first.env.SUPABASE_SERVICE_ROLE_KEY },
      email,
      'restart-password',
    );
    const demo = await auth(first.env, '/token?grant_type=password', { email: 'demo@example.com', password: 'demo-password' });
    assert.equal(demo.status, 200, 'the printed demo user can sign in');
    assert.match(first.output(), /demo@example\.com \/ demo-password/);

    // A child that dies is named with its reason and comes back.
    const state = readState(p);
    assert.ok(state && state.children.length >= 5);
    // This profile's fakes serve a certificate of this profile's CA, which this process (started
    // with the test stack's env) does not trust by default.
    const fakesUrl = `${first.env.LOCAL_FAKES_URL}/_control/health`;
    const fakesStatus = () => probeStatus(fakesUrl, { ca: readFileSync(first.env.NODE_EXTRA_CA_CERTS) });
    assert.equal(await fakesStatus(), 200);
    const pids = state.children;
    for (const pid of pids) {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('local/fakes/main.ts')) process.kill(pid, 'SIGKILL');
    }
    let back = false;
    for (let i = 0; i < 60 && !back; i++) {
      await new Promise((r) => setTimeout(r, 250));
      back = await fakesStatus().then(
        (s) => s === 200,
        () => false,
      );
    }
    assert.ok(back, 'fakes restarted');
    const log = readFileSync(resolve(p.dataRoot, 'logs', 'stack.log'), 'utf8');
    assert.match(log, /fakes killed by SIGKILL/);
    assert.match(log, /restarting fakes/);
  } finally {
    await stop(first);
  }
  assert.equal(isRunning(p), false, 'SIGTERM stops the cluster too');
  assert.equal(readState(p), null);

  const second = await start();
  try {
    const signin = await auth(second.env, '/token?grant_type=password', { email, password: 'restart-password' });
    assert.equal(signin.status, 200, 'a user created before the restart still signs in');
    assert.doesNotMatch(second.output(), /demo seed/, 'the seed runs on the first start only');
    // Re-applying the platform SQL on a used cluster must not undo the migrations' revokes.
    const sql = postgres(second.env.SUPABASE_DB_URL, { max: 1 });
    try {
      const [g] = await sql`select
        has_function_privilege('anon', 'public.create_workspace(text, text)', 'execute') as anon_creates,
        has_table_privilege('anon', 'public.workspaces', 'select') as anon_reads,
        has_table_privilege('authenticated', 'public.profiles', 'delete') as authenticated_deletes_profiles`;
      assert.deepEqual({ ...g }, { anon_creates: false, anon_reads: false, authenticated_deletes_profiles: false });
    } finally {
      await sql.end();
    }
  } finally {
    await stop(second);
  }
  console.log(`# npm start to healthy: first (new data dir) ${first.seconds.toFixed(1)} s, second (used) ${second.seconds.toFixed(1)} s`);
  rmSync(p.dataRoot, { recursive: true, force: true });
});
