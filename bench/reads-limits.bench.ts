// Every request-serving function against the hosted Edge Functions limits, at production scale:
// a workspace of 10,000 videos x 365 days of daily metrics (3.65 M rows of video_metrics) and 1 M
// recorded API calls. Per invocation: CPU ms, peak RSS and wall, from the edge runtime's
// /_runtime/invocations (bench/lib.ts edgeCosts). Functions:
// insights (workspace and one channel), account/export of the owner (every row of theirs) and
// every part of their workspace's data (account/export/workspaces/:id, following next_cursor),
// admin-metrics (every window), health, generate-content (JSON and SSE), backups (snapshot on
// demand, list, the stepped restore of that workspace until it ends), channels and content lists. Baseline in the same
// run: the same calls against a small workspace (100 videos x 365 days).
// Targets (hosted: 2 s CPU, 256 MB, 150 s wall): no invocation over 1.5 s CPU or 200 MB RSS,
// none over 150 s wall, every status as expected.
//
//   CCE_PROFILE=rlbench CCE_PORT_BASE=63321 npm run bench -- reads-limits
// (BENCH_VIDEOS, BENCH_DAYS, BENCH_API_CALLS, BENCH_RUNS; the big workspace is kept between runs.)
import postgres from 'postgres';
import { benchStack, stats, writeResult } from './lib.ts';
import { edgeCosts, type EdgeInvocation as Invocation } from './lib.ts';

type Meter = ReturnType<typeof edgeCosts>;
import { copiesOfContent, filledWorkspace, recordedCalls, userNamed, type User } from './reads-limits-data.ts';
import { readBody } from './reads-limits-body.ts';

const SHAPE = { channels: 4, videos: Number(process.env.BENCH_VIDEOS ?? 10_000), days: Number(process.env.BENCH_DAYS ?? 365) };
const SMALL = { channels: 1, videos: 100, days: SHAPE.days };
const API_CALLS = Number(process.env.BENCH_API_CALLS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const LIMITS = { cpu_ms: 1500, peak_rss_mb: 200, wall_ms: 150_000 };

// Generation is called dozens of times by one user here; rate limiting has its own benchmark.
process.env.ENABLE_RATE_LIMITING = 'false';
const stack = await benchStack();
const env = stack.env;
const sql = postgres(env.SUPABASE_DB_URL!, { max: 1, prepare: false, onnotice: () => {}, idle_timeout: 0 });

interface Call {
  label: string;
  user: User;
  path: string;
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  expect: number;
  runs?: number;
}

interface Measured {
  label: string;
  workspace: 'big' | 'small' | 'none';
  bytes: number;
  invocations: Invocation[];
}

async function call(c: Call) {
  const res = await fetch(`${env.SUPABASE_URL}/functions/v1/${c.path}`, {
    method: c.method ?? 'GET',
    headers: {
      apikey: env.SUPABASE_ANON_KEY!,
      authorization: `Bearer ${c.user.token}`,
      ...(c.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...c.headers,
    },
    body: c.body === undefined ? undefined : JSON.stringify(c.body),
  });
  const body = await readBody(res);
  if (res.status !== c.expect) throw new Error(`${c.label}: ${res.status} (expected ${c.expect}) ${body.head.slice(0, 400)}`);
  return { status: res.status, bytes: body.bytes, json: body.json, tail: body.tail };
}

/** Every part of a workspace's export, one measured call each, following next_cursor. */
async function exportParts(meter: Meter, owner: User, ws: string, workspace: Measured['workspace']): Promise<Measured[]> {
  const out: Measured[] = [];
  let cursor: string | null = null;
  do {
    const path: string = `account/export/workspaces/${ws}${cursor ? `?cursor=${cursor}` : ''}`;
    let answer = { bytes: 0, tail: '' };
    const invocations = await meter.during(async () => (answer = await call({ label: 'export part', user: owner, path, expect: 200 })));
    out.push({ label: 'account/export part', workspace, bytes: answer.bytes, invocations });
    console.log(`  ${workspace} export part ${out.length}: ${answer.bytes} bytes, ${invocations.map((i) => i.cpu_ms).join('/')} ms CPU`);
    cursor = /"next_cursor":(?:null|"([A-Za-z0-9_-]+)")\}\s*$/.exec(answer.tail)?.[1] ?? null;
  } while (cursor && out.length < 1000);
  return out;
}

async function measureAll(meter: Meter, calls: Call[], workspace: Measured['workspace']): Promise<Measured[]> {
  const out: Measured[] = [];
  for (const c of calls) {
    for (let i = 0; i < (c.runs ?? RUNS); i++) {
      let bytes = 0;
      const invocations = await meter.during(async () => {
        const r = await call(c);
        bytes = r.bytes;
        return r;
      });
      out.push({ label: c.label, workspace, bytes, invocations });
      const worst = invocations.reduce((m, v) => Math.max(m, v.cpu_ms), 0);
      console.log(`  ${workspace} ${c.label}: ${invocations.length} invocation(s), max ${worst} ms CPU, ${bytes} bytes`);
    }
  }
  return out;
}

function readsOf(owner: User, admin: User, ws: string, channelId: string): Call[] {
  const gen = { workspace_id: ws, kind: 'title', topic: 'one-pan weeknight dinners', count: 5 };
  return [
    { label: 'insights', user: owner, path: `insights?workspace_id=${ws}`, expect: 200 },
    { label: 'insights (channel)', user: owner, path: `insights?workspace_id=${ws}&channel_id=${channelId}`, expect: 200 },
    { label: 'channels list', user: owner, path: `channels?workspace_id=${ws}`, expect: 200 },
    { label: 'content list', user: owner, path: `content?workspace_id=${ws}&limit=100`, expect: 200 },
    {
      label: 'generate-content',
      user: owner,
      path: 'generate-content',
      method: 'POST',
      body: gen,
      headers: { 'cache-control': 'no-cache' },
      expect: 201,
    },
    {
      label: 'generate-content (SSE)',
      user: owner,
      path: 'generate-content',
      method: 'POST',
      body: gen,
      headers: { 'cache-control': 'no-cache', accept: 'text/event-stream' },
      expect: 200,
    },
    { label: 'account/export', user: owner, path: 'account/export', expect: 200, runs: 1 },
    { label: 'backups list', user: admin, path: `backups/snapshots?workspace_id=${ws}`, expect: 200 },
  ];
}

function platformCalls(admin: User): Call[] {
  return [
    { label: 'health', user: admin, path: 'health', expect: 200 },
    ...['1h', '24h', '7d', '30d'].map((w) => ({
      label: `admin-metrics ${w}`,
      user: admin,
      path: `admin-metrics?window=${w}`,
      expect: 200,
      runs: 1,
    })),
    { label: 'admin-metrics errors', user: admin, path: 'admin-metrics/errors?limit=200', expect: 200, runs: 1 },
  ];
}

/** Snapshot on demand, then restore the workspace to it (both once: each takes the whole database). */
async function backupCalls(meter: Meter, owner: User, admin: User, ws: string, workspace: Measured['workspace']): Promise<Measured[]> {
  let snapshotId = 0;
  const snap: Call = { label: 'backups snapshot', user: admin, path: 'backups/snapshots', method: 'POST', body: {}, expect: 201, runs: 1 };
  const taken = await meter.during(async () => {
    const r = await call(snap);
    snapshotId = r.json.snapshot_id;
    return r;
  });
  const restore: Call = {
    label: 'backups restore',
    user: owner,
    path: 'backups/restore',
    method: 'POST',
    expect: 202,
    runs: 1,
    body: { workspace_id: ws, snapshot_id: snapshotId, confirm: 'RESTORE' },
  };
  // A restore answers 202 and runs in steps, each called by the one before (pg_net): measured
  // until it ends, so every step's invocation counts, and the progress polls with them.
  const restored = await meter.during(async () => {
    const { json } = await call(restore);
    const deadline = Date.now() + 10 * 60_000;
    for (;;) {
      const { json: got } = await call({
        label: 'backups restore status',
        user: owner,
        path: `backups/restores/${json.restore_id}`,
        expect: 200,
      });
      if (got.restore.status === 'succeeded') return;
      if (got.restore.status !== 'running' || Date.now() > deadline)
        throw new Error(`restore ${json.restore_id}: ${JSON.stringify(got.restore)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  });
  return [
    { label: snap.label, workspace: 'none', bytes: 0, invocations: taken },
    { label: restore.label, workspace, bytes: 0, invocations: restored },
  ];
}

function summarize(measured: Measured[]) {
  const byLabel = new Map<string, Measured[]>();
  for (const m of measured) byLabel.set(`${m.workspace} ${m.label}`, [...(byLabel.get(`${m.workspace} ${m.label}`) ?? []), m]);
  const rows = [...byLabel.entries()].map(([key, ms]) => {
    const inv = ms.flatMap((m) => m.invocations);
    const cpu = stats(inv.map((i) => i.cpu_ms));
    const rss = Math.max(...inv.map((i) => i.peak_rss_mb));
    const wall = Math.max(...inv.map((i) => i.wall_ms));
    const fits = inv.every(
      (i) => i.cpu_ms <= LIMITS.cpu_ms && i.peak_rss_mb <= LIMITS.peak_rss_mb && i.wall_ms <= LIMITS.wall_ms && i.status < 500,
    );
    return {
      key,
      invocations: inv.length,
      cpu_ms_max: cpu.max,
      cpu_ms_p95: cpu.p95,
      peak_rss_mb_max: rss,
      wall_ms_max: wall,
      bytes_max: Math.max(...ms.map((m) => m.bytes)),
      fits,
    };
  });
  console.table(rows);
  return rows;
}

const cronWas = await sql<{ jobid: number; active: boolean }[]>`select jobid, active from cron.job`;
try {
  // pg_cron's wake-ups and probes would run in the functions process during a measurement.
  await sql`update cron.job set active = false`;
  const owner = await userNamed(env, 'reads-limits-owner@example.com');
  const small = await userNamed(env, 'reads-limits-small@example.com');
  const admin = await userNamed(env, 'reads-limits-admin@example.com', true);
  console.log(`filling the big workspace (${SHAPE.videos} videos x ${SHAPE.days} days) unless it is there…`);
  const big = await filledWorkspace(sql, owner, SHAPE);
  const little = await filledWorkspace(sql, small, SMALL);
  console.log(`  big: ${big.seeded ? `seeded in ${big.seconds} s` : 'reused'}; small: ${little.seeded ? 'seeded' : 'reused'}`);
  await recordedCalls(sql, API_CALLS);
  const [{ id: bigChannel }] = await sql<
    { id: string }[]
  >`select id from public.channels where workspace_id = ${big.workspaceId} order by id limit 1`;
  const [{ id: smallChannel }] = await sql<
    { id: string }[]
  >`select id from public.channels where workspace_id = ${little.workspaceId} limit 1`;
  // One real generation per workspace, copied so the content list is full.
  for (const [u, ws] of [
    [owner, big.workspaceId],
    [small, little.workspaceId],
  ] as const) {
    await call({
      label: 'seed content',
      user: u,
      path: 'generate-content',
      method: 'POST',
      expect: 201,
      body: { workspace_id: ws, kind: 'title', topic: 'seed', count: 3 },
    });
    await copiesOfContent(sql, ws, 150);
  }

  const meter = edgeCosts(env.LOCAL_FUNCTIONS_URL!);
  const measured: Measured[] = [];
  measured.push(...(await measureAll(meter, platformCalls(admin), 'none')));
  measured.push(...(await measureAll(meter, readsOf(small, admin, little.workspaceId, smallChannel), 'small')));
  measured.push(...(await measureAll(meter, readsOf(owner, admin, big.workspaceId, bigChannel), 'big')));
  measured.push(...(await exportParts(meter, small, little.workspaceId, 'small')));
  measured.push(...(await exportParts(meter, owner, big.workspaceId, 'big')));
  measured.push(...(await backupCalls(meter, owner, admin, big.workspaceId, 'big')));
  const [{ metric_rows }] = await sql<{ metric_rows: number }[]>`
    select count(*)::int as metric_rows from public.video_metrics where workspace_id = ${big.workspaceId}`;
  const summary = summarize(measured);
  writeResult('reads-limits', {
    measured_from: 'edge runtime (/_runtime/invocations)',
    workspace: { ...SHAPE, metric_rows },
    baseline_workspace: SMALL,
    api_calls: API_CALLS,
    limits: LIMITS,
    summary,
    invocations: measured,
    pass: summary.every((r) => r.fits),
  });
} finally {
  for (const j of cronWas) await sql`update cron.job set active = ${j.active} where jobid = ${j.jobid}`;
  await sql.end({ timeout: 5 });
  await stack.stop();
}
