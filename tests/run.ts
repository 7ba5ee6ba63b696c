// `npm test`: starts an isolated stack (profile "test": own data dir and ports, never the data of
// `npm start`), runs every suite against it, stops everything it started (also on failure or
// Ctrl-C), and ends with one line: `N passed, N failed[, N skipped]` over all suites.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import postgres from 'postgres';
import { profile, ROOT } from '../local/profile.ts';
import { startStack, stopLeftStack, type StartedStack } from '../local/stack/lifecycle.ts';
import { ROOMY_AUTH_LIMITS } from './unit/helpers/auth-users.ts';
import { DENO_ENV, denoBin } from '../local/deno.ts';
import { add, parseDenoTest, parseNodeTap, parseTap, summaryLine, type Counts } from './summary.ts';

const p = profile(process.env.CCE_PROFILE ?? 'test');
const only = process.argv.slice(2); // optional suite names: lint types db unit functions e2e adversarial stack
const wants = (suite: string) => only.length === 0 || only.includes(suite);

// CCE_TEST_FILES=<substring>[,…] keeps only the test files whose path contains one of them (a
// quick loop over one failing file); the summary then counts only those.
const ONLY = (process.env.CCE_TEST_FILES ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);

function files(dir: string, suffix: string): string[] {
  return allFiles(dir, suffix).filter((f) => ONLY.length === 0 || ONLY.some((part) => f.includes(part)));
}

function allFiles(dir: string, suffix: string): string[] {
  const abs = resolve(ROOT, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const name of readdirSync(abs).sort()) {
    const full = join(abs, name);
    if (statSync(full).isDirectory()) out.push(...allFiles(relative(ROOT, full), suffix));
    else if (name.endsWith(suffix)) out.push(relative(ROOT, full));
  }
  return out;
}

function run(suite: string, cmd: string, args: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  mkdirSync(resolve(p.dataRoot, 'logs'), { recursive: true });
  console.log(`\n━━ ${suite}: ${[cmd.replace(ROOT + '/', ''), ...args].join(' ').slice(0, 200)}`);
  return new Promise((resolveRun) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => {
      writeFileSync(resolve(p.dataRoot, 'logs', `test-${suite}.log`), output);
      resolveRun({ code: code ?? 1, output });
    });
  });
}

/** A runner that failed without printing its counts still counts as one failure. */
function counted(suite: string, code: number, counts: Counts | null): Counts {
  if (counts === null) {
    console.log(`✖ ${suite}: the runner exited ${code} without a summary`);
    return { passed: 0, failed: 1, skipped: 0 };
  }
  if (code !== 0 && counts.failed === 0) counts = { ...counts, failed: 1 };
  console.log(`${counts.failed ? '✖' : '✔'} ${suite}: ${summaryLine(counts)}`);
  return counts;
}

/**
 * The suites share one stack, and with it one YouTube quota day: our budget and the fake
 * project's. Uploads cost 1,600 units each, so the realistic 10,000 would be spent by the first
 * upload suite and fail every later one. The test stack gets a large budget instead (the fake's
 * from its environment, so that resetting the fakes keeps it); tests of quota exhaustion set
 * their own budget relative to what is used and restore it afterwards.
 */
const ROOMY_QUOTA = 100_000_000;

async function roomyYoutubeQuota(env: Record<string, string>) {
  const sql = postgres(env.SUPABASE_DB_URL, { max: 1, onnotice: () => {} });
  try {
    await sql`update private.youtube_daily_budget set units = ${ROOMY_QUOTA}`;
  } finally {
    await sql.end();
  }
}

const check = (code: number): Counts => ({ passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0 });

let total: Counts = { passed: 0, failed: 0, skipped: 0 };
let stack: StartedStack | undefined;
let interrupted = false;

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, async () => {
    if (interrupted) return;
    interrupted = true;
    console.log(`\n${sig}: stopping the test stack`);
    await stack?.stop();
    console.log(summaryLine({ ...total, failed: total.failed + 1 }));
    process.exit(130);
  });
}

try {
  const nodeTest = (suite: string, testFiles: string[], env: Record<string, string>, concurrency = '1') =>
    run(
      suite,
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=tap', `--test-concurrency=${concurrency}`, ...testFiles],
      env,
    );

  // Static checks first: they need no stack and fail fast.
  if (wants('lint')) {
    const r = await run('lint', resolve(ROOT, 'node_modules/.bin/eslint'), ['.'], {});
    total = add(total, counted('lint', r.code, check(r.code)));
    const format = await run('lint', process.execPath, ['--import', 'tsx', 'tools/format.ts', '--check'], {});
    total = add(total, counted('lint (format)', format.code, check(format.code)));
    const sql = await run('lint', process.execPath, ['--import', 'tsx', 'tools/sql-lint.ts'], {});
    total = add(total, counted('lint (new migrations)', sql.code, check(sql.code)));
    const locked = await run('lint', process.execPath, ['--import', 'tsx', 'tools/migrations-lock.ts'], {});
    total = add(total, counted('lint (migrations unchanged)', locked.code, check(locked.code)));
    const length = await run('lint', process.execPath, ['--import', 'tsx', 'tools/function-length.ts'], {});
    total = add(total, counted('lint (function length)', length.code, check(length.code)));
    const fileLength = await run('lint', process.execPath, ['--import', 'tsx', 'tools/file-length.ts'], {});
    total = add(total, counted('lint (file length)', fileLength.code, check(fileLength.code)));
  }
  if (wants('types')) {
    const tsc = await run('types', resolve(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], {});
    total = add(total, counted('types (tsc)', tsc.code, check(tsc.code)));
    const deno = await run(
      'types',
      denoBin(),
      [
        'check',
        '--quiet',
        '--frozen',
        '--config',
        'supabase/functions/deno.json',
        'supabase/functions',
        'local/edge-runtime/isolate',
        'tests/fixtures/edge-functions',
        ...allFiles('tests/functions', '.ts'),
        ...allFiles('tests/adversarial', '.ts'),
        ...allFiles('bench/deno', '.ts'),
      ],
      DENO_ENV,
    );
    total = add(total, counted('types (deno check)', deno.code, check(deno.code)));
  }

  const unitFiles = files('tests/unit', '.test.ts');
  const needsStack = ['db', 'unit', 'functions', 'stack', 'e2e', 'adversarial'].some(wants);
  if (needsStack) {
    console.log(`\n━━ starting the isolated test stack (${p.dataRoot})`);
    await stopLeftStack(p);
    rmSync(p.dataRoot, { recursive: true, force: true });
    // Every suite calls from 127.0.0.1, so the per-address limit of anonymous calls would refuse
    // the suites' own public calls; the limit has its own test (ops-anonymous-limit), in-process.
    process.env.MAX_ANONYMOUS_REQUESTS_PER_MINUTE ??= '1000000';
    // Auth's per-address and per-hour email limits likewise (GoTrue's own variables); the limits
    // themselves are tested in-process (tests/unit/auth-email-flows.test.ts). Set in the process
    // env so the stacks test files start (restart) get them too.
    for (const [name, value] of Object.entries(ROOMY_AUTH_LIMITS)) process.env[name] ??= value;
    stack = await startStack(p, {
      // For the fakes process only (see roomyYoutubeQuota); in-process fakes of unit tests keep
      // Google's default.
      serviceEnv: { FAKE_YOUTUBE_DAILY_QUOTA: String(ROOMY_QUOTA) },
      echo: false,
      onFatal: (reason) => console.error(`✖ test stack: ${reason}`),
    });
    console.log(`✔ test stack up in ${stack.timings.services} ms (${JSON.stringify(stack.timings)})`);
  }
  const env = stack?.env ?? {};

  if (wants('db')) {
    const helpers = resolve(ROOT, 'tests/db/helpers/test-helpers.sql');
    if (existsSync(helpers)) {
      const sql = postgres(p.dbUrl, { max: 1, onnotice: () => {} });
      await sql.unsafe(readFileSync(helpers, 'utf8'));
      await sql.end();
    }
    const dbFiles = files('tests/db', '.test.sql');
    if (dbFiles.length) {
      const r = await run('db', 'pg_prove', ['--verbose', '--failures', '-d', p.dbUrl, ...dbFiles], env);
      total = add(total, counted('db (pgTAP)', r.code, parseTap(r.output)));
    }
  }
  if (wants('unit') && unitFiles.length) {
    const r = await nodeTest('unit', unitFiles, env);
    total = add(total, counted('unit (node)', r.code, parseNodeTap(r.output)));
  }
  // After pgTAP, whose tests reason about the real default budget.
  if (stack) await roomyYoutubeQuota(stack.env);
  const fnFiles = files('tests/functions', '.test.ts');
  if (wants('functions') && fnFiles.length) {
    const r = await run(
      'functions',
      denoBin(),
      ['test', '--allow-all', '--no-prompt', '--frozen', '--config', 'supabase/functions/deno.json', ...fnFiles],
      { ...env, ...DENO_ENV },
    );
    total = add(total, counted('functions (deno)', r.code, parseDenoTest(r.output)));
  }
  const e2eFiles = files('tests/e2e', '.test.ts');
  if (wants('e2e') && e2eFiles.length) {
    const r = await nodeTest('e2e', e2eFiles, env);
    total = add(total, counted('e2e (browser)', r.code, parseNodeTap(r.output)));
  }
  // The adversarial walks (every route; the direct database surface): Deno, like the functions
  // suite, and before the stack suite, which stops and restarts parts of the stack.
  const adversarialFiles = files('tests/adversarial', '.test.ts');
  if (wants('adversarial') && adversarialFiles.length) {
    const r = await run(
      'adversarial',
      denoBin(),
      ['test', '--allow-all', '--no-prompt', '--frozen', '--config', 'supabase/functions/deno.json', ...adversarialFiles],
      { ...env, ...DENO_ENV },
    );
    total = add(total, counted('adversarial (deno)', r.code, parseDenoTest(r.output)));
  }
  // Last: these stop and restart parts of the stack.
  const stackFiles = files('tests/stack', '.test.ts');
  if (wants('stack') && stackFiles.length) {
    const r = await nodeTest('stack', stackFiles, { ...env, CCE_TEST_PG_DATA: p.pgData });
    total = add(total, counted('stack (node)', r.code, parseNodeTap(r.output)));
  }
} catch (err) {
  console.error(`✖ npm test could not run: ${(err as Error).message}`);
  total = add(total, { passed: 0, failed: 1, skipped: 0 });
} finally {
  if (stack) {
    console.log('\n━━ stopping the test stack');
    await stack.stop();
  }
}
console.log(summaryLine(total));
process.exit(total.failed > 0 ? 1 : 0);
