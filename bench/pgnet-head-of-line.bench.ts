// Head-of-line blocking in pg_net's batches by waiting upload workers (README "Workers within the
// hosted limits"). pg_net sends nothing more, and writes no answer, until every call of its batch
// has answered; a worker woken to wait for rows due later in the minute used to wait out its whole
// claim window (55 s) in one call.
//   gap  A worker woken through pg_net waits for a schedule due 50 s later while an upload pauses
//        and calls its next step (the step before runs in a process of its own, so the woken call
//        is the only long one). Measured: seconds from the pause to the next step's start, and to
//        pg_net's answer to the next-step call (what recovery of a killed step reads). Baseline in
//        the same run: the woken call told to wait its whole window (`wait_ms` = 55 s), as before.
//        BENCH_ROUNDS (default 3) rounds of each, alternating.
//   then, with the same stack: bench/schedules-dispatch (1,000 due in one minute: lag, exactly
//        once) and bench/upload-limits for 500 MB (stepped vs one request; BENCH_HOL_UPLOAD_MB),
//        whose results are copied in. BENCH_HOL_OTHERS=0 skips them.
// Writes bench/results/pgnet-head-of-line.json.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import postgres from 'postgres';
import { ROOT } from '../local/profile.ts';
import { denoBin } from '../local/stack/services.ts';
import { benchStack, fakesControl, stats, writeResult } from './lib.ts';
import { roomyQuota, uploadFixtures } from './upload-fixtures.ts';

const MiB = 1024 * 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const OLD_WAIT_MS = 55_000;
// The step before the paused one, outside the edge runtime (tests/functions/helpers).
const STEP_PROCESS = 'tests/functions/helpers/schedule-worker-process.ts';

const started = await benchStack();
const env = started.env;
const fakes = env.LOCAL_FAKES_URL!;
const functionsUrl = env.LOCAL_FUNCTIONS_URL ?? `http://127.0.0.1:${env.LOCAL_FUNCTIONS_PORT}`;
const sql = postgres(env.SUPABASE_DB_URL!, { max: 2, onnotice: () => {} });
const control = fakesControl(fakes);
const fixtures = uploadFixtures(sql, control, fakes);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function isolates(): Promise<{ fn: string; pid: number; serving_since: number | null }[]> {
  return (await (await fetch(`${functionsUrl}/_runtime/isolates`)).json()).isolates;
}

/** Idle schedules isolates ended, so the woken worker starts with its whole budget (see the test). */
async function freshSchedulesIsolates() {
  const idle = (await isolates()).filter((i) => i.fn === 'schedules' && i.serving_since === null);
  for (const i of idle) process.kill(i.pid, 'SIGKILL');
  for (let j = 0; j < 100 && (await isolates()).some((i) => idle.some((k) => k.pid === i.pid)); j++) await sleep(50);
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | null | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** One round: seconds from the pause to the next step's start and to the answer to its call. */
async function gapRound(s: Awaited<ReturnType<typeof fixtures.setup>>, waitMs: number | null) {
  const { videoJobId } = await fixtures.render(s.ws, 24 * MiB);
  const upload = await fixtures.schedule(s, s.channels[0].id, videoJobId, `bench-hol-${Date.now()}`, new Date());
  const later = await fixtures.schedule(s, s.channels[0].id, videoJobId, `bench-hol-later-${Date.now()}`, new Date(Date.now() + 50_000));
  const first = `bench:first:${crypto.randomUUID()}`;
  await sql`select id from private.claim_upload_schedules(${first}, 1, 40, ${upload})`;
  await freshSchedulesIsolates();
  const since = Date.now();
  await sql`select private.call_upload_worker(${sql.json(waitMs === null ? {} : { wait_ms: waitMs })})`;
  await until('the woken worker', 20_000, async () =>
    (await isolates()).some((i) => i.fn === 'schedules' && (i.serving_since ?? 0) >= since),
  );
  const step = spawnSync(
    denoBin(),
    [
      'run',
      '-A',
      '--config',
      'supabase/functions/deno.json',
      STEP_PROCESS,
      upload,
      first,
      JSON.stringify({ leaseSeconds: 40, stepBytes: 8 * MiB }),
    ],
    { cwd: ROOT, env: { ...process.env, ...env } as NodeJS.ProcessEnv, encoding: 'utf8' },
  );
  if (!step.stdout.includes('"result":"yielded"')) throw new Error(`the first step did not pause: ${step.stdout} ${step.stderr}`);
  const [paused] = await sql`
    select e.at, s.step_call_id from public.upload_events e join public.upload_schedules s on s.id = e.schedule_id
    where e.schedule_id = ${upload} and e.event = 'upload_paused'`;
  const times = await until('the next step and the answer to its call', 90_000, async () => {
    const [r] = await sql`
      select (select min(at) from public.upload_events where schedule_id = ${upload} and event = 'upload_resumed') as resumed,
        (select created from net._http_response where id = ${paused.step_call_id}) as answered`;
    return r.resumed && r.answered ? r : null;
  });
  await until(
    'the upload',
    90_000,
    async () => (await sql`select 1 from public.upload_schedules where id = ${upload} and status = 'published'`)[0],
  );
  await sql`delete from public.upload_schedules where id = ${later} and status <> 'published'`;
  const after = (t: Date) => Math.round((t.getTime() - paused.at.getTime()) / 100) / 10;
  return { next_step_started_s: after(times.resumed), next_step_call_answered_s: after(times.answered) };
}

/** Runs another benchmark against this stack and returns what it wrote. */
function otherBench(name: string, extraEnv: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', resolve(ROOT, 'bench', `${name}.bench.ts`)], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, ...env, ...extraEnv } as NodeJS.ProcessEnv,
  });
  const result = JSON.parse(readFileSync(resolve(ROOT, 'bench', 'results', `${name}.json`), 'utf8'));
  return { exit_code: r.status, ...result };
}

const summary = (rounds: { next_step_started_s: number; next_step_call_answered_s: number }[]) => ({
  rounds,
  next_step_started_s: stats(rounds.map((r) => r.next_step_started_s)),
  next_step_call_answered_s: stats(rounds.map((r) => r.next_step_call_answered_s)),
});

const undoQuota = await roomyQuota(sql, control);
let userId: string | undefined;
try {
  const s = await fixtures.setup(1);
  userId = s.userId;
  const before: Awaited<ReturnType<typeof gapRound>>[] = [];
  const after: Awaited<ReturnType<typeof gapRound>>[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    before.push(await gapRound(s, OLD_WAIT_MS));
    after.push(await gapRound(s, null));
    console.log(`round ${i + 1}: before ${JSON.stringify(before.at(-1))}, after ${JSON.stringify(after.at(-1))}`);
  }
  const result: Record<string, unknown> = {
    gap: {
      scenario:
        'a worker woken through pg_net waits for a schedule due 50 s later while an upload pauses (8 MiB step) and calls its next step',
      before_one_call_waits_its_window: summary(before),
      after_calls_wait_5s_and_hand_on: summary(after),
    },
  };
  if (process.env.BENCH_HOL_OTHERS !== '0') {
    const mb = process.env.BENCH_HOL_UPLOAD_MB ?? '500';
    result.schedules_dispatch = otherBench('schedules-dispatch', {});
    result.upload_limits = otherBench('upload-limits', { BENCH_SIZES_MB: mb, BENCH_SCHEDULES: '0' });
  }
  writeResult('pgnet-head-of-line', result);
} finally {
  await undoQuota(userId);
  await sql.end();
  await started.stop();
}
