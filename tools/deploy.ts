// `npm run deploy -- --project-ref <ref> [--env-file <file>] [--dry-run] [--skip-web] [--skip-smoke]`:
// the deploy workflow's migrate and deploy jobs from a person's own machine (the steps and their
// order: tools/deploy/steps.ts). Values come from the shell's env and, if given, an env file with
// the names the GitHub environment uses (SUPABASE_ACCESS_TOKEN, SUPABASE_DB_PASSWORD,
// SUPABASE_URL, SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY, ALERT_WEBHOOK_URL, WEB_URL,
// YOUTUBE_CLIENT_ID, YOUTUBE_CLIENT_SECRET, GEMINI_API_KEY, REVID_API_KEY, VERCEL_TOKEN,
// VERCEL_ORG_ID, VERCEL_PROJECT_ID, SMOKE_EMAIL, SMOKE_PASSWORD, and the optional settings).
// Everything is checked before the first step; --dry-run checks and prints the plan and changes
// nothing. The first failing step stops the deploy (exit 1); bad options or values exit 2.
// Never prints a secret value.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { deploySteps, describeStep, type Step } from './deploy/steps.ts';
import { writeWebOutput } from './deploy/web-output.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** KEY=value lines; quotes around a value are removed, # lines ignored. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(raw);
    if (!m || raw.trimStart().startsWith('#')) continue;
    out[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

function version(): string {
  const r = spawnSync('git', ['describe', '--tags', '--always', '--dirty'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

function runStep(step: Step, baseEnv: NodeJS.ProcessEnv): number {
  if (step.inProcess) {
    step.inProcess();
    return 0;
  }
  const dir = step.secretFile === undefined ? null : mkdtempSync(join(tmpdir(), 'cce-deploy-'));
  try {
    const file = dir ? join(dir, 'secret') : '';
    if (dir) writeFileSync(file, step.secretFile!, { mode: 0o600 });
    const argv = step.argv.map((a) => (a === '{file}' ? file : a));
    const r = spawnSync(argv[0], argv.slice(1), {
      cwd: resolve(ROOT, step.cwd ?? '.'),
      env: { ...baseEnv, ...step.env },
      stdio: 'inherit',
    });
    return r.status ?? 1;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

function main() {
  let steps: Step[];
  let values;
  let env: Record<string, string | undefined>;
  try {
    values = parseArgs({
      options: {
        'project-ref': { type: 'string' },
        'env-file': { type: 'string' },
        'dry-run': { type: 'boolean' },
        'skip-web': { type: 'boolean' },
        'skip-smoke': { type: 'boolean' },
      },
      strict: true,
    }).values;
    if (!values['project-ref']) throw new Error('give --project-ref <ref>');
    env = { ...process.env, ...(values['env-file'] ? parseEnvFile(readFileSync(values['env-file'], 'utf8')) : {}) };
    steps = deploySteps(env, {
      projectRef: values['project-ref'],
      version: version(),
      skipWeb: values['skip-web'] ?? false,
      skipSmoke: values['skip-smoke'] ?? false,
      writeWebOutput: (config) => writeWebOutput({ buildDir: resolve(ROOT, 'web/build'), outDir: resolve(ROOT, '.vercel/output'), config }),
    });
  } catch (err) {
    console.error(`deploy: ${(err as Error).message.split('\n').join('\ndeploy: ')}`);
    process.exit(2);
  }
  const secrets = Object.entries(env)
    .filter(([k]) => /TOKEN|PASSWORD|SECRET|KEY/.test(k))
    .map(([, v]) => v ?? '');
  console.log(`deploy: ${values['project-ref']}, ${steps.length} steps${values['dry-run'] ? ' (dry run: nothing is changed)' : ''}`);
  for (const [i, step] of steps.entries()) {
    console.log(`deploy: ${i + 1}/${steps.length} ${describeStep(step, secrets)}`);
    if (values['dry-run']) continue;
    const code = runStep(step, process.env);
    if (code !== 0) {
      console.error(`deploy: "${step.name}" failed (exit ${code}); the steps after it did not run`);
      process.exit(1);
    }
  }
  console.log(values['dry-run'] ? 'deploy: dry run done, every value checked' : 'deploy: done');
}

if (import.meta.filename === process.argv[1]) main();
