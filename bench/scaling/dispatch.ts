// The upload dispatcher with N schedules due in the same minute: the database part of the
// schedules worker, run as the worker runs it. The every-minute wake-up starts C chains (C as
// private.wake_upload_worker decides for N due rows); each chain's invocation claims up to
// PER_INVOCATION rows (what the worker's step budget fits with small files: 32 MiB step, 3 MiB
// per schedule taken up, bench/upload-limits), marks each published, and calls its successor.
// No bytes go to the fake YouTube (SCALING_DISPATCH_UPLOAD_MS simulates each upload's wall
// time; SCALING_DISPATCH_HOP_MS the pg_net hop between invocations). Measured: lag from
// publish_at to the claim (p50/p99), and every schedule claimed and published exactly once.
import { baseline, load, makeUser, timed, type Point, type Sql } from './common.ts';
import { stats } from '../lib.ts';

const PER_INVOCATION = Number(process.env.SCALING_DISPATCH_PER_INVOCATION ?? 9);
const UPLOAD_MS = Number(process.env.SCALING_DISPATCH_UPLOAD_MS ?? 0);
const HOP_MS = Number(process.env.SCALING_DISPATCH_HOP_MS ?? 250);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The chains the wake-up starts for `due` rows: the product's own rule when it exposes one. */
async function chainsFor(sql: Sql, due: number): Promise<number> {
  const [{ exists }] = await sql`select to_regprocedure('private.upload_worker_chains(integer)') is not null as exists`;
  if (exists) return (await sql`select private.upload_worker_chains(${due}) as n`)[0].n as number;
  return Math.min(4, Math.max(1, Math.ceil(Math.min(due, 400) / 100)));
}

async function fixture(sql: Sql, due: number, publishAt: Date) {
  const { userId, workspaceId } = await makeUser(sql, `scaling-dispatch-${due}@example.com`);
  const channels = (
    await sql`
    insert into public.channels (workspace_id, youtube_channel_id, title, status, connected_by, connected_at)
    select ${workspaceId}, 'UCdp' || substr(md5(${workspaceId}::text || c), 1, 18), 'Dispatch ' || c, 'active', ${userId}, now()
    from generate_series(1, 10) c returning id`
  ).map((r) => r.id as string);
  const [{ id: jobId }] = await sql`
    with content as (
      insert into public.generated_content (workspace_id, kind, brief, prompt_version, model, output, status, approved_version)
      values (${workspaceId}, 'script', '{}', 'bench', 'bench', '{"items": [{"title": "A script", "hook": "Watch this.", "script": "A script.", "call_to_action": "Subscribe.", "estimated_duration_seconds": 30}]}', 'approved', 1) returning id)
    insert into public.video_jobs (workspace_id, content_id, content_version, provider_job_id, render_params, status, progress,
      video_url, webhook_secret_hash, give_up_at, idempotency_key, request_fingerprint, finished_at)
    select ${workspaceId}, content.id, 1, 'scaling-' || ${due}::int, '{}', 'ready', 100, 'https://127.0.0.1/v.mp4', repeat('a', 64),
      now() + interval '1 hour', 'scaling-' || ${due}::int, repeat('a', 64), now() from content returning id`;
  await sql`
    insert into public.upload_schedules (workspace_id, channel_id, video_job_id, title, publish_at, strategy, privacy,
      status, next_attempt_at, idempotency_key, request_fingerprint, created_by, updated_by)
    select ${workspaceId}, (${channels}::uuid[])[1 + (i % 10)], ${jobId}, 'Scaling #' || i, ${publishAt}, 'upload_at_time', 'public',
      'scheduled', ${publishAt}, 'scaling-' || i, repeat('b', 64), ${userId}, ${userId}
    from generate_series(1, ${due}) i`;
  await sql`analyze public.upload_schedules`;
  return { workspaceId };
}

/** One chain: invocations claim a batch, "upload" it, and hand over until nothing is due. */
async function chain(sql: Sql, name: string, claims: Map<string, number>, lags: number[]) {
  let invocations = 0;
  for (;;) {
    const worker = `${name}:${invocations++}`;
    const rows = await sql`select id, publish_at from private.claim_upload_schedules(${worker}, ${PER_INVOCATION}, 180, null)`;
    const at = Date.now();
    if (rows.length === 0) return invocations;
    for (const r of rows) {
      lags.push((at - (r.publish_at as Date).getTime()) / 1000);
      claims.set(r.id as string, (claims.get(r.id as string) ?? 0) + 1);
      if (UPLOAD_MS) await sleep(UPLOAD_MS);
      await sql`
        update public.upload_schedules set status = 'published', upload_started_at = now(), published_at = now(),
          finished_at = now(), youtube_video_id = 'v' || substr(md5(id::text), 1, 10), lease_owner = null, lease_expires_at = null, next_attempt_at = null
        where id = ${r.id} and lease_owner = ${worker}`;
    }
    if (HOP_MS) await sleep(HOP_MS);
  }
}

export async function measureDispatch(sql: Sql, due: number): Promise<Point> {
  // The claims take any due row: on a shared database (a test stack) others' rows would be taken.
  const [{ foreign }] = await sql`
    select count(*)::int as foreign from public.upload_schedules
    where status in ('scheduled', 'uploading', 'processing') and next_attempt_at <= now() + interval '10 minutes'`;
  if (foreign > 0) throw new Error(`dispatch: ${foreign} other schedules are due soon in this database; measure on a database of its own`);
  // pg_cron's wake-up would start real workers on these rows (on a stack) or post to nowhere.
  await sql`update cron.job set active = false where jobname = 'upload-dispatch'`;
  try {
    return await measured(sql, due);
  } finally {
    await sql`update cron.job set active = true where jobname = 'upload-dispatch'`;
  }
}

async function measured(sql: Sql, due: number): Promise<Point> {
  const base = await baseline(sql);
  const chains = await chainsFor(sql, due);
  const point = await dispatched(sql, due, chains);
  // The rule before 20261207000500 (at most four chains), in the same run, when it differs.
  const before = Math.min(4, Math.max(1, Math.ceil(due / 100)));
  if (chains !== before && process.env.SCALING_DISPATCH_COMPARE !== '0') {
    await dropDispatch(sql, [due]);
    const old = await dispatched(sql, due, before);
    point.details.four_chains_before = {
      chains: before,
      lag_publish_at_to_claim_s: old.details.lag_publish_at_to_claim_s,
      exactly_once: old.details.exactly_once,
      wall_ms: old.details.wall_ms,
    };
  }
  return { ...point, baseline_p95_ms: base };
}

async function dispatched(sql: Sql, due: number, chains: number): Promise<Point> {
  const publishAt = new Date(Date.now() + 3_000);
  const { workspaceId } = await fixture(sql, due, publishAt);
  await sleep(Math.max(0, publishAt.getTime() - Date.now()));
  const claims = new Map<string, number>();
  const lags: number[] = [];
  const [wallMs, invocations] = await timed(() =>
    Promise.all(Array.from({ length: chains }, (_, i) => chain(sql, `scaling-chain-${i}`, claims, lags))),
  );
  const [{ published, once }] = await sql`
    select count(*) filter (where status = 'published')::int as published,
      count(*) filter (where status = 'published' and attempts = 1)::int as once
    from public.upload_schedules where workspace_id = ${workspaceId}`;
  const lag = stats(lags);
  const exactlyOnce = published === due && once === due && claims.size === due && [...claims.values()].every((n) => n === 1);
  return {
    size: due,
    value: lag.p99,
    baseline_p95_ms: NaN,
    load_average: load(),
    details: {
      chains,
      per_invocation: PER_INVOCATION,
      simulated_upload_ms: UPLOAD_MS,
      hop_ms: HOP_MS,
      invocations: invocations.reduce((a, b) => a + b, 0),
      wall_ms: Math.round(wallMs),
      lag_publish_at_to_claim_s: lag,
      published,
      exactly_once: exactlyOnce,
      meets_p99_60s: lag.p99 < 60,
    },
  };
}

export async function dropDispatch(sql: Sql, all: number[]) {
  for (const n of all) {
    await sql`delete from public.workspaces where created_by in (select id from auth.users where email = ${`scaling-dispatch-${n}@example.com`})`;
    await sql`delete from auth.users where email = ${`scaling-dispatch-${n}@example.com`}`;
  }
}
