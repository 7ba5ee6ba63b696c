// `npm run deploy` (tools/deploy.ts, tools/deploy/steps.ts): the workflow's migrate and deploy
// steps from a person's machine. Checked here without a network: the plan has the same commands
// in the same order as deploy.yml; every value is checked before anything runs; a dry run runs
// nothing; a real run calls each command with its secrets in a file only while the step runs,
// and stops at the first failure. `npx` and `npm` are stand-ins on PATH that record their calls.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { deploySteps } from '../../tools/deploy/steps.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const REF = 'abcdefghijklmnopqrst';
// Made up at run time: nothing here looks like a real credential to the secret scan.
const made = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
const ENV: Record<string, string> = {
  SUPABASE_ACCESS_TOKEN: made('access'),
  SUPABASE_DB_PASSWORD: made('dbpw'),
  SUPABASE_URL: `https://${REF}.supabase.co`,
  SUPABASE_ANON_KEY: made('anon-key-public'),
  SUPABASE_SERVICE_ROLE_KEY: made('service-role-key'),
  ALERT_WEBHOOK_URL: 'https://hooks.example.com/alerts',
  WEB_URL: 'https://app.example.com',
  YOUTUBE_CLIENT_ID: 'client.apps.example.com',
  YOUTUBE_CLIENT_SECRET: made('client-secret'),
  GEMINI_API_KEY: made('gemini'),
  REVID_API_KEY: made('revid'),
  VERCEL_TOKEN: made('vercel'),
  VERCEL_ORG_ID: 'team_example',
  VERCEL_PROJECT_ID: 'prj_example',
  SMOKE_EMAIL: 'smoke@example.com',
  SMOKE_PASSWORD: made('smokepw'),
};
const SECRET_NAMES = [
  'SUPABASE_ACCESS_TOKEN',
  'SUPABASE_DB_PASSWORD',
  'SUPABASE_SERVICE_ROLE_KEY',
  'YOUTUBE_CLIENT_SECRET',
  'GEMINI_API_KEY',
  'REVID_API_KEY',
  'VERCEL_TOKEN',
  'SMOKE_PASSWORD',
];

const dir = mkdtempSync(join(tmpdir(), 'deploy-command-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const envFile = join(dir, 'production.env');
writeFileSync(
  envFile,
  Object.entries(ENV)
    .map(([k, v]) => `${k}='${v}'`)
    .join('\n') + '\n',
);

// A stand-in for npx and npm: one JSON line per call with argv, the secret file it was handed
// (contents and mode, read while the step runs) and the deploy's env names it saw.
const bin = join(dir, 'bin');
const calls = join(dir, 'calls.jsonl');
spawnSync('mkdir', ['-p', bin]);
for (const tool of ['npx', 'npm']) {
  writeFileSync(
    join(bin, tool),
    `#!/usr/bin/env node
const fs = require('node:fs');
const argv = process.argv.slice(2);
const fileAt = argv.findIndex((a) => a === '-f' || a === '--env-file');
const file = fileAt >= 0 ? argv[fileAt + 1] : null;
const secret = file ? { text: fs.readFileSync(file, 'utf8'), mode: (fs.statSync(file).mode & 0o777).toString(8), path: file } : null;
const env = Object.fromEntries(['SUPABASE_ACCESS_TOKEN', 'SUPABASE_PROJECT_REF', 'SITE_URL', 'VERCEL_PROJECT_ID', 'SMOKE_EMAIL'].filter((k) => process.env[k]).map((k) => [k, process.env[k]]));
fs.appendFileSync(${JSON.stringify(calls)}, JSON.stringify({ tool: ${JSON.stringify(tool)}, argv, secret, env, cwd: process.cwd() }) + '\\n');
process.exit(process.env.FAIL_ON && argv.join(' ').includes(process.env.FAIL_ON) ? 3 : 0);
`,
  );
  chmodSync(join(bin, tool), 0o755);
}

function deploy(args: string[], extraEnv: Record<string, string> = {}) {
  rmSync(calls, { force: true });
  // Only the PATH stand-ins and the given env file: none of the test stack's variables.
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'tools/deploy.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { PATH: `${bin}:${process.env.PATH}`, HOME: process.env.HOME, ...extraEnv },
  });
  const recorded = existsSync(calls)
    ? readFileSync(calls, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
    : [];
  return { code: r.status, out: `${r.stdout}${r.stderr}`, calls: recorded };
}

const commandOf = (argv: string[]) => argv.join(' ');

describe('npm run deploy', () => {
  it("has the workflow's commands in the workflow's order", () => {
    const workflow = readFileSync(resolve(ROOT, '.github/workflows/deploy.yml'), 'utf8');
    const kinds = [
      /npx supabase link/,
      /npx supabase config push/,
      /npx supabase db query --linked/,
      /npx supabase db push --dry-run/,
      /npx supabase db push --yes/,
      /npx supabase secrets set/,
      /npx supabase functions deploy/,
      /npm ci/,
      /npm run build/,
      /web-output/,
      /vercel@[\d.]+ deploy --prebuilt --prod --yes/,
      /npm run smoke -- --wait 120/,
    ];
    // Each one after the one before, from the migrate job on: the order is the workflow's.
    let at = workflow.indexOf('\n  migrate:');
    for (const k of kinds) {
      const found = workflow.slice(at).search(k);
      assert.ok(found >= 0, `${k} is not in deploy.yml after the step before it: update this list or the deploy command`);
      at += found + 1;
    }
    const steps = deploySteps(ENV, { projectRef: REF, version: 'v1', skipWeb: false, skipSmoke: false, writeWebOutput: () => {} });
    const lines = steps.map((s) => (s.inProcess ? 'web-output' : commandOf(s.argv)));
    assert.equal(lines.length, kinds.length);
    kinds.forEach((k, i) => assert.match(lines[i], k, `step ${i + 1} is "${lines[i]}"`));
    // The same pinned tools as the workflow.
    assert.ok(
      workflow.includes(steps.find((s) => s.name.startsWith('Web deploy'))!.argv[2]),
      'the Vercel CLI version differs from deploy.yml',
    );
  });

  it('checks every value first and names what is missing, never a value', () => {
    const partial = join(dir, 'partial.env');
    writeFileSync(partial, `SUPABASE_URL=http://insecure.example.com\nGEMINI_API_KEY=${ENV.GEMINI_API_KEY}\n`);
    const r = deploy(['--project-ref', REF, '--env-file', partial]);
    assert.equal(r.code, 2, r.out);
    for (const name of [
      'SUPABASE_ACCESS_TOKEN',
      'SUPABASE_URL must be the project URL',
      'WEB_URL',
      'VERCEL_TOKEN',
      'YOUTUBE_CLIENT_SECRET',
    ])
      assert.match(r.out, new RegExp(name));
    assert.doesNotMatch(r.out, new RegExp(ENV.GEMINI_API_KEY));
    assert.deepEqual(r.calls, [], 'nothing ran');
    assert.equal(deploy(['--project-ref', 'not-a-ref', '--env-file', envFile]).code, 2);
  });

  it('a dry run prints the plan, runs nothing and shows no secret', () => {
    const r = deploy(['--project-ref', REF, '--env-file', envFile, '--dry-run']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /12 steps \(dry run: nothing is changed\)/);
    assert.match(r.out, /Vault secrets for pg_cron: npx supabase db query --linked -f <secret file>/);
    assert.deepEqual(r.calls, []);
    for (const name of SECRET_NAMES) assert.ok(!r.out.includes(ENV[name]), `${name} printed`);
  });

  it('runs each step with its env, hands secrets over in a private file removed afterwards', () => {
    const r = deploy(['--project-ref', REF, '--env-file', envFile, '--skip-web']);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(
      r.calls.map((c) => commandOf(c.argv).split(' ').slice(0, 3).join(' ')),
      [
        'supabase link --project-ref',
        'supabase config push',
        'supabase db query',
        'supabase db push',
        'supabase db push',
        'supabase secrets set',
        'supabase functions deploy',
        'run smoke --',
      ],
    );
    for (const c of r.calls.slice(0, 7))
      assert.deepEqual([c.env.SUPABASE_ACCESS_TOKEN, c.env.SUPABASE_PROJECT_REF], [ENV.SUPABASE_ACCESS_TOKEN, REF]);
    assert.equal(r.calls[1].env.SITE_URL, ENV.WEB_URL);
    const vault = r.calls[2].secret;
    assert.equal(vault.mode, '600');
    assert.match(vault.text, /vault\.create_secret/);
    assert.ok(vault.text.includes(ENV.SUPABASE_SERVICE_ROLE_KEY));
    const fnEnv = r.calls[5].secret;
    assert.equal(fnEnv.mode, '600');
    assert.ok(fnEnv.text.includes(`GEMINI_API_KEY='${ENV.GEMINI_API_KEY}'`));
    assert.match(fnEnv.text, /^WEB_APP_URL='https:\/\/app\.example\.com'$/m);
    assert.doesNotMatch(fnEnv.text, /OUTBOUND_TRUSTED_ORIGINS|ENABLE_API_MOCKING='true'/);
    assert.ok(!existsSync(vault.path) && !existsSync(fnEnv.path), 'secret files removed after their step');
    assert.equal(r.calls[7].env.SMOKE_EMAIL, ENV.SMOKE_EMAIL);
    for (const name of SECRET_NAMES) assert.ok(!r.out.includes(ENV[name]), `${name} printed`);
  });

  it('stops at the first failing step', () => {
    const r = deploy(['--project-ref', REF, '--env-file', envFile, '--skip-web', '--skip-smoke'], { FAIL_ON: 'db push --yes' });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /"Migrate" failed \(exit 3\); the steps after it did not run/);
    assert.equal(commandOf(r.calls.at(-1).argv), 'supabase db push --yes');
    assert.ok(!r.calls.some((c) => c.argv.includes('functions')), 'no functions deployed after a failed migration');
  });
});
