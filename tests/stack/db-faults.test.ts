// The functions survive losing their database: under a steady, bounded load of authenticated
// reads, the functions' connections are terminated ten times and Postgres is restarted ten times.
// No isolate and no stack process may die, the gateway never answers 502, every 5xx is a 503 with
// Retry-After in the error envelope, and reads succeed again after each fault without help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { profile } from '../../local/profile.ts';
import { logFile, startCluster } from '../../local/stack/cluster.ts';
import { createConfirmedUser } from '../unit/helpers/auth-users.ts';

const p = profile(process.env.CCE_PROFILE ?? 'test');
const gateway = process.env.SUPABASE_URL!;
const runtime = process.env.LOCAL_FUNCTIONS_URL!;
const anonKey = process.env.SUPABASE_ANON_KEY!;
const stackLog = resolve(p.dataRoot, 'logs', 'stack.log');

const FAULTS = 10;
const CLIENTS = 4;
// Enough users that a client's requests stay under MAX_API_REQUESTS_PER_MINUTE (100) per user.
const USERS = 24;
const PAUSE_MS = 25;
const RECOVERY_TIMEOUT_MS = 20_000;

interface Outcome {
  status: number;
  startedAt: number;
  retryAfter: string | null;
  code: unknown;
}

async function signUp(i: number): Promise<string> {
  const stackAuth = { url: gateway, anonKey, serviceRoleKey: process.env.SUPABASE_SERVICE_ROLE_KEY! };
  const user = await createConfirmedUser(stackAuth, `db-fault-${Date.now()}-${i}@example.com`, `pw-${crypto.randomUUID()}`);
  return user.accessToken;
}

async function read(token: string): Promise<Outcome> {
  const startedAt = performance.now();
  try {
    const res = await fetch(`${gateway}/functions/v1/workspaces`, {
      headers: { authorization: `Bearer ${token}`, apikey: anonKey },
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let code: unknown;
    try {
      const body = JSON.parse(text);
      code = body?.error?.code ?? body?.code;
    } catch {
      code = `not JSON: ${text.slice(0, 80)}`;
    }
    return { status: res.status, startedAt, retryAfter: res.headers.get('retry-after'), code };
  } catch (err) {
    return { status: 0, startedAt, retryAfter: null, code: (err as Error).message };
  }
}

/** CLIENTS loops of reads, each client cycling through the users, until stopped. */
function load(tokens: string[]) {
  const outcomes: Outcome[] = [];
  let running = true;
  const clients = Array.from({ length: CLIENTS }, async (_, c) => {
    for (let i = c; running; i += CLIENTS) {
      outcomes.push(await read(tokens[i % tokens.length]));
      await new Promise((r) => setTimeout(r, PAUSE_MS));
    }
  });
  return { outcomes, stop: async () => ((running = false), await Promise.all(clients)) };
}

/** Resolves once a read started after `since` succeeded; fails after RECOVERY_TIMEOUT_MS. */
async function recovered(outcomes: Outcome[], since: number, what: string) {
  const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
  while (!outcomes.some((o) => o.startedAt > since && o.status === 200)) {
    assert.ok(Date.now() < deadline, `no successful read within ${RECOVERY_TIMEOUT_MS / 1000} s after ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function crashes(): Promise<number> {
  const res = await fetch(`${runtime}/_runtime/isolates`);
  const body = await res.json();
  return Object.values(body.crashes as Record<string, number>).reduce((a, b) => a + b, 0);
}

async function terminateFunctionConnections(): Promise<number> {
  const sql = postgres(p.dbUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`
      select pg_terminate_backend(pid) from pg_stat_activity
      where application_name = 'edge-functions' and pid <> pg_backend_pid()`;
    return rows.length;
  } finally {
    await sql.end();
  }
}

// pg_ctl run without blocking this process, so the load goes on while Postgres stops and starts.
async function pgCtl(...args: string[]) {
  const pgCtlBin = '/usr/lib/postgresql/15/bin/pg_ctl';
  const asRoot = process.getuid?.() === 0;
  const full = ['-D', p.pgData, ...args];
  await promisify(execFile)(asRoot ? 'runuser' : pgCtlBin, asRoot ? ['-u', 'postgres', '--', pgCtlBin, ...full] : full);
}

function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.status >= 500 ? `${o.status} ${String(o.code)}` : String(o.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

test(
  'terminated connections and Postgres restarts under load: no crash, no 502, only 503 with Retry-After',
  { timeout: 240_000 },
  async () => {
    const tokens = await Promise.all(Array.from({ length: USERS }, (_, i) => signUp(i)));
    const crashesBefore = await crashes();
    const logOffset = statSync(stackLog).size;
    const { outcomes, stop } = load(tokens);
    let terminated = 0;
    try {
      await recovered(outcomes, 0, 'the start');
      for (let i = 1; i <= FAULTS; i++) {
        await new Promise((r) => setTimeout(r, 300));
        const at = performance.now();
        terminated += await terminateFunctionConnections();
        await recovered(outcomes, at, `terminating the functions' connections (${i})`);
      }
      for (let i = 1; i <= FAULTS; i++) {
        await new Promise((r) => setTimeout(r, 300));
        // A fast shutdown ends every backend with admin_shutdown, as a failover does; while it is
        // down, connections are refused, and while it starts they are turned away.
        await pgCtl('-m', 'fast', '-w', '-t', '60', 'stop');
        await new Promise((r) => setTimeout(r, 300));
        await pgCtl('-l', logFile(p), '-w', '-t', '60', 'start');
        await recovered(outcomes, performance.now(), `restarting Postgres (${i})`);
      }
    } finally {
      await stop();
      startCluster(p);
    }

    const counts = tally(outcomes);
    console.log(`# ${outcomes.length} reads, ${terminated} connections terminated: ${JSON.stringify(counts)}`);
    assert.ok(terminated >= FAULTS, 'the functions had connections to terminate');
    assert.equal((await crashes()) - crashesBefore, 0, 'no isolate crashed');
    const exits = readFileSync(stackLog, 'utf8')
      .slice(logOffset)
      .split('\n')
      .filter((l) => /\[supervisor\].* (exited|killed)/.test(l));
    assert.deepEqual(exits, [], 'no stack process exited');
    const failed = outcomes.filter((o) => o.status !== 200 && o.status !== 429);
    assert.ok(failed.length > 0, 'requests met the outages (else this test proves nothing)');
    assert.deepEqual(
      failed.filter((o) => o.status !== 503).map((o) => `${o.status} ${String(o.code)}`),
      [],
      'every failure is a 503',
    );
    for (const o of failed) {
      assert.match(o.retryAfter ?? '', /^\d+$/, `a 503 (${String(o.code)}) says when to retry`);
      assert.equal(typeof o.code, 'string', 'a 503 carries the error envelope');
    }
  },
);
